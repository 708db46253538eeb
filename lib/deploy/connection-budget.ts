/**
 * Connection arithmetic for a packaged template: every container holds up to
 * POSTGRES_MAX_CONNECTIONS connections. Queue consumers are bounded by their event source's
 * maximum concurrency; API functions by their reserved concurrency when reserveConcurrency is
 * on, else by the containers planned for them (`ApiContainersPlanned`): beyond those, Neon's
 * pooler queues their transactions (slower answers) rather than refusing them. The sum must stay
 * within the budget the template declares (Neon's pooler pool size).
 */

type Resource = {
  Type: string;
  Properties: {
    Environment?: { Variables?: Record<string, unknown> };
    ScalingConfig?: { MaximumConcurrency?: number };
    ReservedConcurrentExecutions?: number;
    FunctionName?: unknown;
  };
};
export interface Template {
  Resources: Record<string, Resource>;
  Outputs?: Record<string, { Value: unknown }>;
}

export interface ConnectionBudget {
  budget: number;
  /** Containers that may run at once, per function. */
  containers: Record<string, number>;
  connectionsPerContainer: Record<string, number>;
  worstCase: number;
  withinBudget: boolean;
  /** Functions without a concurrency bound: they make the worst case unbounded. */
  unbounded: string[];
  /** How each function is bounded. */
  boundBy: Record<string, 'maximumConcurrency' | 'reservedConcurrency' | 'planned'>;
}

export function checkConnectionBudget(template: Template): ConnectionBudget {
  const budget = Number(template.Outputs?.DatabaseConnectionBudget?.Value);
  if (!Number.isFinite(budget))
    throw new Error('The template declares no DatabaseConnectionBudget output.');
  const functions = Object.entries(template.Resources).filter(
    ([, r]) => r.Type === 'AWS::Lambda::Function',
  );
  const mappings = Object.values(template.Resources).filter(
    (r) => r.Type === 'AWS::Lambda::EventSourceMapping',
  );
  const planned = Object.fromEntries(
    String(template.Outputs?.ApiContainersPlanned?.Value ?? '')
      .split(',')
      .filter(Boolean)
      .map((pair) => pair.split('=') as [string, string]),
  );
  const boundBy: ConnectionBudget['boundBy'] = {};
  const containers: Record<string, number> = {};
  const perContainer: Record<string, number> = {};
  const unbounded: string[] = [];
  for (const [logicalId, fn] of functions) {
    const name = logicalId.replace(/LambdaFunction$/, '');
    perContainer[name] = Number(
      fn.Properties.Environment?.Variables?.POSTGRES_MAX_CONNECTIONS ?? 2,
    );
    const mapping = mappings.find((m) =>
      JSON.stringify(m.Properties.FunctionName).includes(logicalId),
    );
    const bounds = [
      ['maximumConcurrency', mapping?.Properties.ScalingConfig?.MaximumConcurrency],
      ['reservedConcurrency', fn.Properties.ReservedConcurrentExecutions],
      ['planned', planned[name]],
    ] as const;
    const bound = bounds.find(([, n]) => n !== undefined);
    if (!bound) unbounded.push(name);
    else {
      containers[name] = Number(bound[1]);
      boundBy[name] = bound[0];
    }
  }
  const worstCase = Object.entries(containers).reduce(
    (sum, [name, n]) => sum + n * perContainer[name]!,
    0,
  );
  return {
    budget,
    containers,
    connectionsPerContainer: perContainer,
    worstCase,
    unbounded,
    boundBy,
    withinBudget: unbounded.length === 0 && worstCase <= budget,
  };
}
