import type { ASTNode } from '@marcbachmann/cel-js';

/**
 * True when the expression selects `variable.field` (or `variable.?field`) anywhere, macros included.
 * Kubernetes uses the same test (validation.go hasSelectExp) to require `claims.email_verified` wherever a
 * username expression reads `claims.email`; like there, an index (`claims["email"]`) does not count.
 */
export function selectsField(node: ASTNode, variable: string, field: string): boolean {
  if ((node.op === '.' || node.op === '.?') && node.args[1] === field) {
    const operand = node.args[0];
    if (operand.op === 'id' && operand.args === variable) return true;
  }
  if (!Array.isArray(node.args)) return false;
  return node.args.some((arg: unknown) => childSelects(arg, variable, field));
}

function childSelects(value: unknown, variable: string, field: string): boolean {
  if (Array.isArray(value)) return value.some((item) => childSelects(item, variable, field));
  if (value !== null && typeof value === 'object' && 'op' in value) {
    return selectsField(value as ASTNode, variable, field);
  }
  return false;
}
