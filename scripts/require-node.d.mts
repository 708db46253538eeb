/** One line naming the Node.js version needed and the command that fixes it, or undefined. */
export function nodeProblem(version: string): string | undefined;
