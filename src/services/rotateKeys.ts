/**
 * `carnet keys rotate`: every record's data key is re-wrapped under a new master key; no document
 * is touched. Crash-safe: the new key is written (0600, fsynced) beside the old one first, each
 * batch of re-wraps commits on its own, and the new key replaces the old file only at the end. A
 * rotation interrupted midway is finished by running it again (both keys are loaded meanwhile).
 */
import { commitNextKeyFile, decodeMasterKey, prepareNextKeyFile, type StaticKeyProvider } from '../crypto/keys.ts';
import { appendAudit } from '../audit/audit.ts';
import { CarnetError } from '../domain/errors.ts';
import { inTransaction, type Ctx } from './context.ts';

export interface RotateResult {
  from: string[];
  to: string;
  rewrapped: number;
}

export async function rotateMasterKey(
  ctx: Ctx,
  provider: StaticKeyProvider & { keyFile?: string },
  opts: { newKeyBase64?: string } = {},
): Promise<RotateResult> {
  const before = provider.knownKeyIds();
  let newKey: Buffer;
  if (provider.keyFile) newKey = prepareNextKeyFile(provider.keyFile);
  else if (opts.newKeyBase64) newKey = decodeMasterKey(opts.newKeyBase64, 'CARNET_NEW_MASTER_KEY');
  else throw new CarnetError('NEW_MASTER_KEY_REQUIRED', 'invalid', 'The master key comes from CARNET_MASTER_KEY: give the new one in CARNET_NEW_MASTER_KEY');
  provider.activate(newKey);
  const target = provider.activeKeyId();
  let rewrapped = 0;
  for (;;) {
    const batch = await ctx.db.selectFrom('record_keys').selectAll().where('master_key_id', '!=', target).limit(500).execute();
    if (!batch.length) break;
    await inTransaction(ctx, async (tx) => {
      for (const row of batch) {
        const dataKey = provider.unwrap(row.master_key_id, Buffer.from(row.wrapped_key), row.record_id);
        const { keyId, wrapped } = provider.wrap(dataKey, row.record_id);
        dataKey.fill(0);
        await tx.db.updateTable('record_keys').set({ wrapped_key: wrapped, master_key_id: keyId })
          .where('record_id', '=', row.record_id).where('master_key_id', '=', row.master_key_id).execute();
        rewrapped++;
      }
    });
  }
  await inTransaction(ctx, (tx) =>
    appendAudit(tx.db, tx.engine, {
      actor: { kind: 'operator', id: 'carnet-cli', name: 'carnet keys rotate' }, action: 'keys.rotate', outcome: 'success',
      detail: { to: target, rewrapped }, at: tx.clock(),
    }),
  );
  if (provider.keyFile) commitNextKeyFile(provider.keyFile);
  for (const id of before) if (id !== target) provider.forget(id);
  return { from: before.filter((id) => id !== target), to: target, rewrapped };
}
