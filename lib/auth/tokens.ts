/**
 * LightRAG Server's login tokens: HS256 JWTs (jose) whose middle segment carries `sub`, `role`
 * (`user` or `guest`), `exp` and `metadata.auth_mode`, as its WebUI reads them, plus the
 * workspaces the account is granted (under `WORKSPACE_CLAIM`) so the workspace rules read them as
 * they read an identity provider's claim.
 *
 * @example
 * ```ts
 * const token = await issueToken(login, { sub: 'alice', role: 'user' }, 'workspaces');
 * const claims = await verifyToken(login, token); // { sub: 'alice', role: 'user', … }
 * ```
 */
import type { LoginConfig } from '../settings/login.ts';

/** Who a token names, and as what. */
export interface LoginIdentity {
  sub: string;
  role: 'user' | 'guest';
}

const ALGORITHM = 'HS256';
const key = (login: Pick<LoginConfig, 'tokenSecret'>) =>
  new TextEncoder().encode(login.tokenSecret);

/**
 * A signed token for `who`, valid `TOKEN_EXPIRE_HOURS` (guests: `GUEST_TOKEN_EXPIRE_HOURS`), with
 * the account's granted workspaces under `claim` when `AUTH_WORKSPACES` lists them.
 */
export async function issueToken(
  login: Pick<LoginConfig, 'tokenSecret' | 'tokenExpireHours' | 'guestTokenExpireHours'> &
    Partial<Pick<LoginConfig, 'workspaces'>>,
  who: LoginIdentity,
  claim: string | undefined,
): Promise<string> {
  const { SignJWT } = await import('jose');
  const hours = who.role === 'guest' ? login.guestTokenExpireHours : login.tokenExpireHours;
  const granted = login.workspaces?.[who.role === 'guest' ? 'guest' : who.sub];
  return new SignJWT({
    role: who.role,
    metadata: { auth_mode: who.role === 'guest' ? 'disabled' : 'enabled' },
    ...(claim && login.workspaces ? { [claim]: granted ?? [] } : {}),
  })
    .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT' })
    .setSubject(who.sub)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000 + hours * 3600))
    .sign(key(login));
}

/** The token's claims when its signature, algorithm and expiry hold; undefined otherwise. */
export async function verifyToken(
  login: LoginConfig,
  token: string,
): Promise<(LoginIdentity & Record<string, unknown>) | undefined> {
  const { jwtVerify } = await import('jose');
  try {
    const { payload } = await jwtVerify(token, key(login), {
      algorithms: [ALGORITHM],
      requiredClaims: ['exp', 'sub'],
    });
    const role = payload.role === 'guest' ? 'guest' : 'user';
    // A guest token is only as good as guest mode: turning it off ends every guest session.
    if (role === 'guest' && !login.guest) return undefined;
    return { ...payload, sub: payload.sub!, role };
  } catch {
    return undefined;
  }
}
