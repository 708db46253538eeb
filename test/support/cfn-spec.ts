/**
 * A packaged CloudFormation template checked against the CloudFormation resource specification
 * as far as it goes without AWS. The specification is `@aws-cdk/aws-service-spec`, the maintained
 * database the AWS CDK is generated from. Checked: every resource type exists; every property
 * exists on its type (nested property types too) and every required one is given; literal values
 * have the property's primitive type; every Ref, GetAtt (with an attribute the type has), Sub
 * variable, DependsOn and ImportValue (against the exports of the stacks given) resolves. Not
 * checked: value patterns, enumerations and ranges, rules between properties, whether referenced
 * AWS resources outside the stack exist, quotas; those need AWS (a change set).
 */
import { loadAwsServiceSpec } from '@aws-cdk/aws-service-spec';

type SpecDb = Awaited<ReturnType<typeof loadAwsServiceSpec>>;
type AnyTemplate = {
  Resources: Record<
    string,
    { Type: string; Properties?: Record<string, unknown>; DependsOn?: unknown }
  >;
  Outputs?: Record<string, { Value: unknown; Export?: { Name: unknown } }>;
  Parameters?: Record<string, unknown>;
  Conditions?: Record<string, unknown>;
};

const PSEUDO = new Set([
  'AWS::Region',
  'AWS::AccountId',
  'AWS::Partition',
  'AWS::StackName',
  'AWS::StackId',
  'AWS::URLSuffix',
  'AWS::NoValue',
  'AWS::NotificationARNs',
]);

let db: Promise<SpecDb> | undefined;
export function specDatabase(): Promise<SpecDb> {
  db ??= loadAwsServiceSpec();
  return db;
}

/** Problems found in `template`; empty when it passes. `imports`: export names other stacks give. */
export async function validateTemplate(
  template: AnyTemplate,
  imports: ReadonlySet<string> = new Set(),
): Promise<string[]> {
  const spec = await specDatabase();
  const problems: string[] = [];
  const resources = template.Resources;
  const params = new Set(Object.keys(template.Parameters ?? {}));
  const typeOf = (id: string) =>
    spec.lookup('resource', 'cloudFormationType', 'equals', resources[id]?.Type ?? '')[0];

  const checkIntrinsics = (value: unknown, where: string): void => {
    if (Array.isArray(value)) {
      for (const [i, v] of value.entries()) checkIntrinsics(v, `${where}[${i}]`);
      return;
    }
    if (!value || typeof value !== 'object') return;
    const o = value as Record<string, any>;
    if ('Ref' in o) {
      const target = String(o.Ref);
      if (!PSEUDO.has(target) && !params.has(target) && !(target in resources))
        problems.push(`${where}: Ref ${target} names nothing in the template`);
      return;
    }
    if ('Fn::GetAtt' in o) {
      const [id, ...rest] = Array.isArray(o['Fn::GetAtt'])
        ? o['Fn::GetAtt']
        : String(o['Fn::GetAtt']).split('.');
      const attribute = rest.join('.');
      if (!(id in resources))
        problems.push(`${where}: GetAtt ${id}.${attribute}: no resource ${id}`);
      else {
        const type = typeOf(id);
        if (type && !(attribute in type.attributes))
          problems.push(
            `${where}: GetAtt ${id}.${attribute}: ${resources[id]!.Type} has no attribute ${attribute}`,
          );
      }
      return;
    }
    if ('Fn::Sub' in o) {
      const [text, vars] = Array.isArray(o['Fn::Sub']) ? o['Fn::Sub'] : [o['Fn::Sub'], {}];
      for (const [, name] of String(text).matchAll(/\$\{([^}!]+)\}/g)) {
        if (vars && name! in vars) continue;
        const [id, attribute] = name!.split('.');
        if (attribute) checkIntrinsics({ 'Fn::GetAtt': [id, attribute] }, `${where} (Sub)`);
        else checkIntrinsics({ Ref: id }, `${where} (Sub)`);
      }
      if (vars) checkIntrinsics(vars, where);
      return;
    }
    if ('Fn::ImportValue' in o) {
      const name = o['Fn::ImportValue'];
      if (typeof name === 'string' && !imports.has(name))
        problems.push(`${where}: ImportValue ${name}: no stack given exports it`);
      else checkIntrinsics(name, where);
      return;
    }
    for (const [k, v] of Object.entries(o)) checkIntrinsics(v, `${where}.${k}`);
  };

  const isIntrinsic = (v: unknown) =>
    !!v &&
    typeof v === 'object' &&
    !Array.isArray(v) &&
    Object.keys(v).length === 1 &&
    /^(Ref|Fn::\w+)$/.test(Object.keys(v)[0]!);

  // The value against a property type of the specification.
  const checkValue = (t: any, value: unknown, where: string): void => {
    if (isIntrinsic(value) || t === undefined) return;
    switch (t.type) {
      case 'string':
        if (!['string', 'number', 'boolean'].includes(typeof value))
          problems.push(`${where}: expected a string, got ${JSON.stringify(value).slice(0, 60)}`);
        return;
      case 'integer':
      case 'number':
        if (
          typeof value !== 'number' &&
          !(typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value))
        )
          problems.push(`${where}: expected a number, got ${JSON.stringify(value).slice(0, 60)}`);
        return;
      case 'boolean':
        if (typeof value !== 'boolean' && value !== 'true' && value !== 'false')
          problems.push(`${where}: expected a boolean, got ${JSON.stringify(value).slice(0, 60)}`);
        return;
      case 'array':
        if (!Array.isArray(value)) problems.push(`${where}: expected a list`);
        else for (const [i, v] of value.entries()) checkValue(t.element, v, `${where}[${i}]`);
        return;
      case 'map':
        if (!value || typeof value !== 'object' || Array.isArray(value))
          problems.push(`${where}: expected a map`);
        else for (const [k, v] of Object.entries(value)) checkValue(t.element, v, `${where}.${k}`);
        return;
      case 'ref': {
        const def = spec.get('typeDefinition', t.reference.$ref);
        checkProperties(def.properties, value, where);
        return;
      }
      case 'union':
        // Accept when any member accepts it.
        for (const member of t.types) {
          const before = problems.length;
          checkValue(member, value, where);
          if (problems.length === before) return;
          problems.length = before;
        }
        problems.push(`${where}: matches none of its allowed types`);
        return;
      default:
        return; // json, date-time, tag, null: any value
    }
  };

  const checkProperties = (props: Record<string, any>, value: unknown, where: string): void => {
    if (!value || typeof value !== 'object' || Array.isArray(value)) {
      problems.push(`${where}: expected an object`);
      return;
    }
    const given = value as Record<string, unknown>;
    for (const [name, v] of Object.entries(given)) {
      const prop = props[name];
      if (!prop) problems.push(`${where}.${name}: no such property`);
      else checkValue(prop.type, v, `${where}.${name}`);
    }
    for (const [name, prop] of Object.entries(props))
      if (prop.required && !(name in given))
        problems.push(`${where}: required property ${name} missing`);
  };

  for (const [id, r] of Object.entries(resources)) {
    const type = typeOf(id);
    if (!type) {
      problems.push(`${id}: unknown resource type ${r.Type}`);
      continue;
    }
    checkProperties(type.properties, r.Properties ?? {}, `${id}(${r.Type})`);
    checkIntrinsics(r.Properties ?? {}, id);
    for (const dep of [r.DependsOn ?? []].flat())
      if (!(String(dep) in resources))
        problems.push(`${id}: DependsOn ${dep}, which does not exist`);
  }
  const exports = new Set<string>();
  for (const [name, output] of Object.entries(template.Outputs ?? {})) {
    checkIntrinsics(output.Value, `Outputs.${name}`);
    if (output.Export) {
      const exported = JSON.stringify(output.Export.Name);
      if (exports.has(exported)) problems.push(`Outputs.${name}: export ${exported} given twice`);
      exports.add(exported);
    }
  }
  return problems;
}
