/**
 * Before a deploy that reserves concurrency (`--param="reserveConcurrency=true"`): can the
 * account spare it? Lambda refuses a reservation that leaves less than its minimum unreserved
 * (100 on a standard account; "decreases account's UnreservedConcurrentExecution below its
 * minimum value"), and a new account's quota may be lower than the reservations alone, so the
 * stack would fail half-way through its first deploy. This check fails first, with the numbers.
 *
 * @example
 * ```ts
 * const verdict = checkAccountConcurrency({ accountLimit: 1000, unreserved: 900, current: {}, planned: { query: 10 } });
 * if (!verdict.ok) throw new Error(verdict.message);
 * ```
 */

/** What Lambda keeps unreserved for functions without a reservation (its documented rule). */
export const UNRESERVED_MINIMUM = 100;

export interface AccountConcurrency {
  /** AccountLimit.ConcurrentExecutions */
  accountLimit: number;
  /** AccountLimit.UnreservedConcurrentExecutions, before this deploy */
  unreserved: number;
  /** This stack's functions' reservations today (0 or absent when none or not deployed yet). */
  current: Record<string, number>;
  /** The reservations the packaged template asks for. */
  planned: Record<string, number>;
}

export interface ConcurrencyVerdict {
  ok: boolean;
  /** Unreserved concurrency the account would have after the deploy. */
  unreservedAfter: number;
  message: string;
}

export function checkAccountConcurrency(a: AccountConcurrency): ConcurrencyVerdict {
  const sum = (r: Record<string, number>) => Object.values(r).reduce((s, n) => s + n, 0);
  const planned = sum(a.planned);
  // A function's own reservation returns to the pool when the deploy replaces it.
  const unreservedAfter = a.unreserved + sum(a.current) - planned;
  const listed = Object.entries(a.planned)
    .map(([name, n]) => `${name} ${n}`)
    .join(', ');
  if (unreservedAfter >= UNRESERVED_MINIMUM) {
    return {
      ok: true,
      unreservedAfter,
      message: `Reserving ${planned} (${listed}) leaves ${unreservedAfter} of the account's ${a.accountLimit} concurrent executions unreserved.`,
    };
  }
  return {
    ok: false,
    unreservedAfter,
    message:
      `Reserving ${planned} concurrent executions (${listed}) would leave ${unreservedAfter} unreserved, ` +
      `but Lambda keeps at least ${UNRESERVED_MINIMUM} (account limit ${a.accountLimit}, ${a.unreserved} unreserved now). ` +
      'Deploy without reservations (reserveConcurrency=false: the connection budget holds through event-source maximumConcurrency ' +
      'and Neon\'s pooler), lower apiConcurrency, or ask for a higher "Concurrent executions" quota in Service Quotas.',
  };
}

/** The reservations a packaged template asks for, by function name. */
export function plannedReservations(template: {
  Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
}): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of Object.values(template.Resources)) {
    if (r.Type !== 'AWS::Lambda::Function') continue;
    const n = r.Properties.ReservedConcurrentExecutions;
    if (n !== undefined) out[String(r.Properties.FunctionName)] = Number(n);
  }
  return out;
}
