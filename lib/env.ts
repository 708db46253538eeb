import { ConfigError, type ConfigProblem } from './errors.ts';

/** What the configuration reads of one variable (for the generated reference). */
export interface VariableRead {
  name: string;
  kind: 'text' | 'list' | 'integer' | 'number' | 'boolean' | 'one of';
  /** The default under an otherwise empty environment; absent when there is none. */
  default?: string;
  min?: number;
  max?: number;
  choices?: string[];
}

function numberRange(options: {
  default?: number;
  min?: number;
  max?: number;
  documentedDefault?: string;
}) {
  return {
    ...(options.default !== undefined
      ? { default: options.documentedDefault ?? String(options.default) }
      : {}),
    ...(options.min !== undefined ? { min: options.min } : {}),
    ...(options.max !== undefined ? { max: options.max } : {}),
  };
}

/** The environment as a plain record; `process.env` fits. */
export type Env = Readonly<Record<string, string | undefined>>;

/**
 * Reads environment variables with trimming, defaults and validation, collecting every problem
 * instead of stopping at the first, so a misconfigured deployment is fixed in one round.
 * Values of variables marked secret are never echoed into problems.
 *
 * @example
 * ```ts
 * const env = new EnvReader(process.env);
 * const max = env.integer('POSTGRES_MAX_CONNECTIONS', { default: 2, min: 1, max: 100 });
 * env.throwIfProblems(); // one ConfigError listing everything wrong
 * ```
 */
export class EnvReader {
  readonly problems: ConfigProblem[] = [];
  /** Every variable read, with its kind and default (the configuration reference is built from it). */
  readonly reads = new Map<string, VariableRead>();
  readonly #env: Env;

  constructor(env: Env) {
    this.#env = env;
  }

  #read(name: string, read: Omit<VariableRead, 'name'>): void {
    this.reads.set(name, { name, ...read });
  }

  /** The trimmed value, or undefined when unset or blank. */
  raw(name: string): string | undefined {
    if (!this.reads.has(name)) this.#read(name, { kind: 'text' });
    const value = this.#env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  }

  /** The value exactly as set (whitespace kept), or undefined when unset. */
  rawUntrimmed(name: string): string | undefined {
    if (!this.reads.has(name)) this.#read(name, { kind: 'text' });
    return this.#env[name];
  }

  has(name: string): boolean {
    return this.raw(name) !== undefined;
  }

  /** A comma-separated list: items trimmed, empty ones dropped; `[]` when unset. */
  list(name: string): string[] {
    const text = this.raw(name);
    this.#read(name, { kind: 'list' });
    return (text ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  }

  problem(variable: string, problem: string): void {
    this.problems.push({ variable, problem });
  }

  string(name: string, options: { default: string; pattern?: RegExp; hint?: string }): string;
  string(name: string, options?: { pattern?: RegExp; hint?: string }): string | undefined;
  string(
    name: string,
    options: { default?: string; pattern?: RegExp; hint?: string } = {},
  ): string | undefined {
    const value = this.raw(name) ?? options.default;
    this.#read(name, { kind: 'text', default: options.default });
    if (value !== undefined && options.pattern && !options.pattern.test(value)) {
      this.problem(
        name,
        `${JSON.stringify(value)} is not valid; ${options.hint ?? `expected ${options.pattern}`}.`,
      );
      return options.default;
    }
    return value;
  }

  integer(name: string, options: { default: number; min?: number; max?: number }): number;
  integer(name: string, options: { min?: number; max?: number }): number | undefined;
  integer(
    name: string,
    options: { default?: number; min?: number; max?: number },
  ): number | undefined {
    const text = this.raw(name);
    this.#read(name, { kind: 'integer', ...numberRange(options) });
    if (text === undefined) return options.default;
    const value = Number(text);
    if (!/^-?\d+$/.test(text) || !Number.isSafeInteger(value)) {
      this.problem(name, `${JSON.stringify(text)} is not a whole number.`);
      return options.default;
    }
    return this.#inRange(name, value, options) ? value : options.default;
  }

  /** `documentedDefault`: how the reference states a default that depends on other settings. */
  number(
    name: string,
    options: { default: number; min?: number; max?: number; documentedDefault?: string },
  ): number {
    const text = this.raw(name);
    this.#read(name, { kind: 'number', ...numberRange(options) });
    if (text === undefined) return options.default;
    const value = Number(text);
    if (!Number.isFinite(value)) {
      this.problem(name, `${JSON.stringify(text)} is not a number.`);
      return options.default;
    }
    return this.#inRange(name, value, options) ? value : options.default;
  }

  boolean(name: string, options: { default: boolean }): boolean {
    const text = this.raw(name)?.toLowerCase();
    this.#read(name, { kind: 'boolean', default: String(options.default) });
    if (text === undefined) return options.default;
    if (['1', 'true', 'yes', 'on'].includes(text)) return true;
    if (['0', 'false', 'no', 'off'].includes(text)) return false;
    this.problem(name, `${JSON.stringify(text)} is not a boolean; use true or false.`);
    return options.default;
  }

  oneOf<T extends string>(name: string, choices: readonly T[], options: { default: T }): T {
    const text = this.raw(name);
    this.#read(name, { kind: 'one of', default: options.default, choices: [...choices] });
    if (text === undefined) return options.default;
    const match = choices.find((c) => c.toLowerCase() === text.toLowerCase());
    if (match === undefined) {
      this.problem(name, `${JSON.stringify(text)} is not one of ${choices.join(', ')}.`);
      return options.default;
    }
    return match;
  }

  throwIfProblems(): void {
    if (this.problems.length > 0) throw new ConfigError(this.problems);
  }

  #inRange(name: string, value: number, options: { min?: number; max?: number }): boolean {
    if (options.min !== undefined && value < options.min) {
      this.problem(name, `${value} is below the minimum ${options.min}.`);
      return false;
    }
    if (options.max !== undefined && value > options.max) {
      this.problem(name, `${value} is above the maximum ${options.max}.`);
      return false;
    }
    return true;
  }
}
