/**
 * `hash-password [USER]`: reads a password from stdin (never from the command line, where shell
 * history and `ps` would keep it) and prints its scrypt hash, or `USER:hash` ready for
 * `AUTH_ACCOUNTS`.
 */
import { hashPassword, MAX_PASSWORD_LENGTH } from '../auth/passwords.ts';
import type { CliIo } from './context.ts';
import { readAllStdin } from './context.ts';

export async function hashPasswordCommand(args: readonly string[], io: CliIo): Promise<number> {
  const user = args[0];
  if (args.length > 1 || (user !== undefined && !/^[A-Za-z0-9._@-]{1,64}$/.test(user))) {
    io.err(
      'Usage: lightrag-serverless hash-password [USER] < password.txt (user names: letters, digits, . _ @ -)',
    );
    return 2;
  }
  const text = await (io.readStdin ?? readAllStdin)();
  const password = text.replace(/\r?\n$/, '');
  if (password.length === 0 || password.length > MAX_PASSWORD_LENGTH) {
    io.err(
      `Give the password on stdin (1 to ${MAX_PASSWORD_LENGTH} characters), e.g. read -rs P; printf %s "$P" | … hash-password alice`,
    );
    return 2;
  }
  const hash = await hashPassword(password);
  io.out(user ? `${user}:${hash}` : hash);
  return 0;
}
