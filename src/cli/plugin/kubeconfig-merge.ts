import { Document, isMap, isSeq, parseDocument, type YAMLMap, type YAMLSeq } from 'yaml';

/**
 * Adds (or replaces) one cluster, one user and one context in a kubeconfig, leaving everything else
 * as it was: other entries, their order, comments and formatting survive, because the file is edited
 * as a YAML document rather than re-serialised from plain data.
 */
export interface KubeconfigEntry {
  clusterName: string;
  cluster: Record<string, unknown>;
  userName: string;
  user: Record<string, unknown>;
  contextName: string;
  context: Record<string, unknown>;
  /** Make the new context the current one. */
  makeCurrent: boolean;
}

const LISTS = [
  ['clusters', 'cluster'],
  ['users', 'user'],
  ['contexts', 'context'],
] as const;

function emptyKubeconfig(): Document {
  return new Document({
    apiVersion: 'v1',
    kind: 'Config',
    preferences: {},
    clusters: [],
    users: [],
    contexts: [],
  });
}

/** Sets `name`'s entry in a named list (`clusters`…), replacing an existing one in place. */
function upsertNamed(
  doc: Document,
  list: string,
  field: string,
  name: string,
  value: Record<string, unknown>,
): void {
  let seq = doc.get(list, true) as YAMLSeq | undefined;
  if (!isSeq(seq)) {
    seq = doc.createNode([]) as YAMLSeq;
    doc.set(list, seq);
  }
  const item = doc.createNode({ name, [field]: value });
  const index = seq.items.findIndex((entry) => isMap(entry) && (entry as YAMLMap).get('name') === name);
  if (index === -1) seq.items.push(item);
  else seq.items[index] = item;
}

/** Returns the merged kubeconfig text. Throws when `text` is not a YAML mapping (not a kubeconfig). */
export function mergeKubeconfig(text: string, entry: KubeconfigEntry): string {
  const doc = text.trim() === '' ? emptyKubeconfig() : parseDocument(text);
  if (doc.errors.length > 0) throw new Error(`not valid YAML: ${doc.errors[0]?.message}`);
  if (!isMap(doc.contents)) throw new Error('not a kubeconfig (expected a YAML mapping)');
  const values = { cluster: entry.cluster, user: entry.user, context: entry.context };
  const names = { cluster: entry.clusterName, user: entry.userName, context: entry.contextName };
  for (const [list, field] of LISTS) upsertNamed(doc, list, field, names[field], values[field]);
  if (entry.makeCurrent) doc.set('current-context', entry.contextName);
  return doc.toString();
}
