// Who may do what from chat: casbin decides (model.conf: RBAC, wildcard
// patterns on every dimension, deny overrides allow); this class feeds it the
// user together with the groups their chat platform reports, and explains a
// refusal by the dimension that failed, so a denied user learns whether to
// ask in another room, for another namespace, or for a permission at all.
import { readFileSync } from 'node:fs';
import { newEnforcer, newModelFromString, type Enforcer } from 'casbin';
import { asGroup, loadPolicyFile, roomName, type ChatAction, type Policy, type PolicyRule } from './policy.ts';

export interface AuthzRequest {
  user: string;
  /** Groups from the chat platform / identity provider (without the `group:` prefix). */
  groups?: string[];
  cluster: string;
  namespace: string;
  room: string;
  action: ChatAction;
}

export type Dimension = 'subject' | 'action' | 'cluster' | 'namespace' | 'room' | 'deny';

export type Decision =
  | { allowed: true; rule: PolicyRule; subject: string }
  | { allowed: false; dimension: Dimension; reason: string; rule?: PolicyRule };

const MODEL = readFileSync(new URL('./model.conf', import.meta.url), 'utf8');

/** `*` matches any run of characters (slashes included: cluster names can be ARNs), `?` one; everything else is literal. */
export function wildcardMatch(value: string, pattern: string): boolean {
  if (pattern === '*') return true;
  if (!/[*?]/.test(pattern)) return value === pattern;
  const re = new RegExp(`^${pattern.split('').map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[\\^$.|+()[\]{}]/g, '\\$&'))).join('')}$`, 's');
  return re.test(value);
}

const key = (t: readonly string[]) => t.join('\u0000');

export class Authorizer {
  policy: Policy;
  private enforcer: Enforcer;
  private bySource = new Map<string, PolicyRule>();

  /**
   * Hot reload: takes another authorizer's policy in one step, so every
   * holder of this object (the chat engine, approvals) decides by the new
   * policy from the next request on, never by a mix.
   */
  adopt(next: Authorizer): void {
    this.enforcer = next.enforcer;
    this.bySource = next.bySource;
    this.policy = next.policy;
  }

  private constructor(enforcer: Enforcer, policy: Policy) {
    this.enforcer = enforcer;
    this.policy = policy;
    for (const r of policy.rules) this.bySource.set(key([r.sub, r.cluster, r.namespace, r.room, r.action, r.effect]), r);
  }

  static async fromFile(file: string): Promise<Authorizer> {
    return Authorizer.fromPolicy(loadPolicyFile(file));
  }

  static async fromPolicy(policy: Policy): Promise<Authorizer> {
    const enforcer = await newEnforcer(newModelFromString(MODEL));
    enforcer.addFunction('wild', (a: string, b: string) => wildcardMatch(String(a), String(b)));
    const rules = dedupe(policy.rules.map((r) => [r.sub, r.cluster, r.namespace, r.room, r.action, r.effect]));
    const groups = dedupe(policy.groups.map((g) => [g.member, g.group]));
    if (rules.length) await enforcer.addPolicies(rules);
    if (groups.length) await enforcer.addGroupingPolicies(groups);
    return new Authorizer(enforcer, policy);
  }

  /** The subjects a request is checked as: the user and each platform group. */
  private subjects(user: string, groups: string[] = []): string[] {
    return [user, ...groups.map(asGroup)];
  }

  /** Every group the user belongs to: reported by the platform, or granted by the policy's `g` lines (transitively). */
  async groupsOf(user: string, groups: string[] = []): Promise<Set<string>> {
    const out = new Set<string>();
    for (const s of this.subjects(user, groups)) {
      if (s !== user) out.add(s);
      for (const r of await this.enforcer.getImplicitRolesForUser(s)) out.add(r);
    }
    return out;
  }

  async memberOf(user: string, groups: string[] | undefined, group: string): Promise<boolean> {
    return (await this.groupsOf(user, groups)).has(asGroup(group));
  }

  async check(req: AuthzRequest): Promise<Decision> {
    const room = roomName(req.room);
    let allowedBy: { rule: PolicyRule; subject: string } | undefined;
    for (const s of this.subjects(req.user, req.groups)) {
      const [ok, explain] = this.enforcer.enforceExSync(s, req.cluster, req.namespace, room, req.action);
      const rule = explain.length ? this.bySource.get(key(explain)) : undefined;
      // A deny for any of the user's identities wins over an allow for another.
      if (!ok && rule?.effect === 'deny') {
        return { allowed: false, dimension: 'deny', rule, reason: `${req.action} ${where(req)} is explicitly denied for ${s === req.user ? req.user : `${req.user} (as ${s})`} by the policy (${rule.source})` };
      }
      if (ok && rule && !allowedBy) allowedBy = { rule, subject: s };
    }
    if (allowedBy) return { allowed: true, ...allowedBy };
    return this.explain(req, room);
  }

  /** Narrows the allow rules one dimension at a time; the first that leaves none is the reason. */
  private async explain(req: AuthzRequest, room: string): Promise<Decision> {
    const mine = new Set([req.user, ...(await this.groupsOf(req.user, req.groups))]);
    const who = req.groups?.length ? `${req.user} (groups: ${req.groups.join(', ')})` : req.user;
    let rules = this.policy.rules.filter((r) => r.effect === 'allow' && (r.sub === '*' || mine.has(r.sub)));
    if (!rules.length) return { allowed: false, dimension: 'subject', reason: `${who} has no chat permissions in the policy; ask an administrator to add you or one of your groups` };
    const byAction = rules.filter((r) => r.action === '*' || r.action === req.action);
    if (!byAction.length) return { allowed: false, dimension: 'action', reason: `${who} may not ${req.action} anywhere (allowed: ${list(rules.map((r) => r.action))})` };
    rules = byAction;
    const byCluster = rules.filter((r) => wildcardMatch(req.cluster, r.cluster));
    if (!byCluster.length) return { allowed: false, dimension: 'cluster', reason: `${who} may not ${req.action} on cluster ${req.cluster} (allowed clusters: ${list(rules.map((r) => r.cluster))})` };
    rules = byCluster;
    const byNs = rules.filter((r) => wildcardMatch(req.namespace, r.namespace));
    if (!byNs.length) return { allowed: false, dimension: 'namespace', reason: `${who} may not ${req.action} in namespace ${req.namespace} on cluster ${req.cluster} (allowed namespaces: ${list(rules.map((r) => r.namespace))})` };
    rules = byNs;
    const byRoom = rules.filter((r) => wildcardMatch(room, r.room));
    if (!byRoom.length) return { allowed: false, dimension: 'room', reason: `${who} may not ${req.action} ${where(req)} from room ${room}; ask from ${list(rules.map((r) => r.room))}` };
    return { allowed: false, dimension: 'subject', reason: `the policy does not allow ${who} to ${req.action} ${where(req)}` };
  }
}

function where(req: AuthzRequest): string {
  return `in namespace ${req.namespace} on cluster ${req.cluster}`;
}

function list(xs: string[]): string {
  return [...new Set(xs)].sort().join(', ');
}

function dedupe(rows: string[][]): string[][] {
  const seen = new Set<string>();
  return rows.filter((r) => {
    const k = key(r);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
