/**
 * The holder's decisions about the record itself: close it (R1111-36; reopening restores it),
 * ask for its early deletion once closed. Only the holder and legal representatives may (a
 * caregiver never closes), which is checked here before the lifecycle applies the transition.
 */
import type { Actor } from '../../domain/access/types.ts';
import { closeRecord, reopenRecord, requestDeletion, type TransitionResult } from '../recordLifecycle.ts';
import type { Ctx } from '../context.ts';
import { requireHolderSide } from './common.ts';

export type RecordDecision = 'close' | 'reopen' | 'request_deletion';

export async function decideAboutRecord(ctx: Ctx, actor: Actor, recordId: string, decision: RecordDecision): Promise<TransitionResult> {
  await requireHolderSide(ctx, actor, recordId, { manage: true });
  if (decision === 'close') return closeRecord(ctx, actor, recordId);
  if (decision === 'reopen') return reopenRecord(ctx, actor, recordId);
  return requestDeletion(ctx, actor, recordId);
}
