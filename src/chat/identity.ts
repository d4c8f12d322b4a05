// Who is talking. A chat platform vouches only for its own user ids, so an
// identity is `platform:user-id` (slack:U0123, mattermost:8c4…,
// console:alice, terminal:ann@host), and an administrator maps each one
// explicitly to a policy subject (name and groups). Display names and
// usernames are chosen by the users themselves: they are shown and audited,
// never looked up, so naming yourself `bob` on Mattermost gives you nothing
// of bob's. An unmapped user is refused, or — when configured — gets only the
// guest role's groups under their platform identity as subject name.
import type { ChatUser } from './types.ts';

export interface IdentityMapping {
  name: string;
  groups?: string[];
}

export interface GuestRole {
  groups: string[];
}

/** Platform prefixes: a mapped name may not look like one (they are the subjects of guests). */
export const PLATFORMS = ['slack', 'mattermost', 'console', 'terminal'] as const;

/** `slack:U0123`: the identity itself, as audited and compared. */
export function platformId(u: Pick<ChatUser, 'platform' | 'id'>): string {
  return `${u.platform}:${u.id}`;
}

/**
 * The ChatUser for a platform user id: the configured mapping for exactly
 * that id, else the guest role when one is configured, else unmapped.
 */
export function mapIdentity(o: { platform: string; id: string; displayName?: string; users?: Record<string, IdentityMapping>; guest?: GuestRole }): ChatUser {
  const base = { platform: o.platform, id: o.id, ...(o.displayName ? { displayName: o.displayName } : {}) };
  // Own keys only: a user id like "constructor" must not find Object.prototype's.
  const known = o.users && Object.hasOwn(o.users, o.id) ? o.users[o.id] : undefined;
  if (known) return { ...base, name: known.name, groups: [...(known.groups ?? [])], mapping: 'mapped' };
  const subject = platformId(o);
  if (o.guest) return { ...base, name: subject, groups: [...o.guest.groups], mapping: 'guest' };
  return { ...base, name: subject, groups: [], mapping: 'unmapped' };
}

/** The same platform identity (who may justify, confirm or cancel a request: only its requester). */
export function sameIdentity(a: ChatUser, b: ChatUser): boolean {
  return a.platform === b.platform && a.id === b.id;
}

/**
 * Whether two users may be one person, for four-eyes: the same platform
 * identity, the same mapped subject (one person mapped on two platforms), or
 * the same device (one terminal switching users). Never display names.
 */
export function samePerson(a: ChatUser, b: ChatUser): boolean {
  if (sameIdentity(a, b)) return true;
  if (a.mapping === 'mapped' && b.mapping === 'mapped' && a.name === b.name) return true;
  return Boolean(a.session && a.session === b.session);
}

/** "bob (slack:U0123)" in replies: the subject, and the identity when it says more. */
export function describeUser(u: ChatUser): string {
  const id = platformId(u);
  const shown = u.displayName && u.displayName !== u.name ? `shown as ${u.displayName}` : '';
  return u.name === id ? `${id}${shown ? ` (${shown})` : ''}` : `${u.name} (${[id, shown].filter(Boolean).join(', ')})`;
}

/** What every chat audit record says about a user: platform, id, display name, subject and how it was mapped. */
export function auditIdentity(u: ChatUser): Record<string, unknown> {
  return {
    platform: u.platform,
    id: u.id,
    ...(u.displayName ? { displayName: u.displayName } : {}),
    subject: u.name,
    mapping: u.mapping,
    ...(u.groups?.length ? { groups: u.groups } : {}),
    ...(u.session ? { session: u.session } : {}),
  };
}
