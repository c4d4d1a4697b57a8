import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/index.js';
import { compileMappingSet, type MappingOutcome, type MappingSet } from '../../src/mapping/index.js';
import type { SessionIdentity } from '../../src/store/index.js';
import { IdentityMemo } from '../../src/verifier/identity-memo.js';

/** The mapped-identity memo: rules run once per identity snapshot and rule set, never a stale answer. */

function rules(prefix: string): Promise<MappingSet> {
  return compileMappingSet(
    parseConfig(
      {
        store: { memory: {} },
        verifier: { insecureHTTP: true, audiences: ['a'] },
        mapping: {
          claimMappings: { username: { claim: 'email', prefix }, groups: { claim: 'groups', prefix: '' } },
        },
      },
      { env: {}, baseDir: '.' },
    ),
  );
}

function claims(groups: string[]): SessionIdentity {
  return {
    kind: 'claims',
    upstream: '',
    claims: { sub: 's', email: 'kim@example.com', email_verified: true, groups },
  };
}

function counted(mapping: MappingSet, identity: SessionIdentity) {
  const calls = { n: 0 };
  const compute = (): MappingOutcome => {
    calls.n += 1;
    if (identity.kind !== 'claims') throw new Error('claims only');
    return mapping.forUpstream().mapClaims(identity.claims);
  };
  return { calls, compute };
}

describe('IdentityMemo', () => {
  it('maps one identity once per rule set', async () => {
    const memo = new IdentityMemo();
    const mapping = await rules('');
    const identity = claims(['dev']);
    const { calls, compute } = counted(mapping, identity);
    const first = memo.map(identity, mapping, compute);
    expect(memo.map(structuredClone(identity), mapping, compute)).toBe(first);
    expect(calls.n).toBe(1);
    expect(first).toMatchObject({ ok: true, user: { username: 'kim@example.com', groups: ['dev'] } });
  });

  it.each([
    [
      'changed claims (a refresh dropped a group) are mapped afresh',
      claims(['dev', 'admins']),
      claims(['dev']),
      false,
    ],
    ['new rules (another MappingSet) are applied afresh', claims(['dev']), claims(['dev']), true],
  ])('%s', async (_name, before, after, newRules) => {
    const memo = new IdentityMemo();
    const mapping = await rules('');
    const other = newRules ? await rules('oidc:') : mapping;
    const one = memo.map(before, mapping, counted(mapping, before).compute);
    const second = counted(other, after);
    const two = memo.map(after, other, second.compute);
    expect(second.calls.n).toBe(1);
    expect(two).not.toBe(one);
    if (newRules) expect(two).toMatchObject({ ok: true, user: { username: 'oidc:kim@example.com' } });
    else expect(two).toMatchObject({ ok: true, user: { groups: ['dev'] } });
  });

  it('an evaluation error is not remembered: a fixed claim or rule gets a fresh answer', async () => {
    const memo = new IdentityMemo();
    const mapping = await rules('');
    const identity = claims(['dev']);
    let calls = 0;
    const failing = (): MappingOutcome => {
      calls += 1;
      return { ok: false, rule: 'mapping.x', reason: 'boom', evaluationError: true };
    };
    memo.map(identity, mapping, failing);
    memo.map(identity, mapping, failing);
    expect(calls).toBe(2);
  });
});
