/**
 * "The author or its organisation" (DOMAIN §4): who may delete, replace or re-flag a filed
 * document as its source. The holder is the author of what they added themselves; Carnet's own feed
 * of what it filed.
 */
import type { Actor } from '../../domain/access/types.ts';
import type { DocumentTable } from '../../store/schema.ts';

export type AuthorshipColumns = Pick<DocumentTable, 'author_ids' | 'author_orgs' | 'filed_by_kind' | 'filed_by_id' | 'filed_by_org' | 'record_id'>;

export function isAuthorSide(actor: Actor, row: AuthorshipColumns): boolean {
  if (actor.kind === 'holder') return row.filed_by_kind === 'holder' && row.record_id === actor.id;
  if (actor.kind === 'system') return row.filed_by_kind === 'system';
  if (actor.kind !== 'professional') return false;
  const authors: string[] = JSON.parse(row.author_ids);
  const orgs: string[] = JSON.parse(row.author_orgs);
  return (
    authors.includes(actor.id) ||
    (row.filed_by_kind === 'professional' && row.filed_by_id === actor.id) ||
    (!!actor.organisation && (orgs.includes(actor.organisation) || row.filed_by_org === actor.organisation))
  );
}
