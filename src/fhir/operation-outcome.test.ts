import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CarnetError, type ErrorKind } from '../domain/errors.ts';
import { CARNET_ERROR_SYSTEM, operationOutcome, outcomeFromError, outcomeFromWarnings } from './operation-outcome.ts';

describe('OperationOutcome', () => {
  test('issue code from the error kind', () => {
    const expected: Record<Exclude<ErrorKind, 'invalid'>, string> = {
      not_found: 'not-found',
      forbidden: 'forbidden',
      unauthorized: 'login',
      conflict: 'conflict',
      gone: 'deleted',
      too_large: 'too-costly',
      unsupported: 'not-supported',
      rate_limited: 'throttled',
    };
    for (const [kind, code] of Object.entries(expected)) {
      const oo = outcomeFromError(new CarnetError('SOME_CODE', kind as ErrorKind, 'msg'));
      assert.equal(oo.issue[0].code, code, kind);
      assert.equal(oo.issue[0].severity, 'error');
    }
  });

  test('invalid errors: structure, required, value or invalid from the code; override by details', () => {
    const of = (code: string, details?: Record<string, unknown>) =>
      outcomeFromError(new CarnetError(code, 'invalid', 'm', { details })).issue[0].code;
    assert.equal(of('MHD_NOT_A_BUNDLE'), 'structure');
    assert.equal(of('MHD_MISSING_SOURCE_ID'), 'required');
    assert.equal(of('MHD_HASH_MISMATCH'), 'value');
    assert.equal(of('MHD_BAD_VALUE'), 'value');
    assert.equal(of('SEARCH_UNKNOWN_PARAMETER'), 'not-supported');
    assert.equal(of('SOMETHING_ELSE'), 'invalid');
    assert.equal(of('SOMETHING_ELSE', { fhirIssueType: 'business-rule' }), 'business-rule');
    assert.equal(of('SOMETHING_ELSE', { fhirIssueType: 'not-a-type' }), 'invalid');
  });

  test('details carry the Carnet code, expression the location', () => {
    const e = new CarnetError('MHD_SIZE_MISMATCH', 'invalid', 'size differs', {
      expression: ['Bundle.entry[1].resource.content[0].attachment.size'],
    });
    const oo = outcomeFromError(e);
    assert.equal(oo.resourceType, 'OperationOutcome');
    assert.deepEqual(oo.issue[0].details?.coding, [{ system: CARNET_ERROR_SYSTEM, code: 'MHD_SIZE_MISMATCH' }]);
    assert.equal(oo.issue[0].diagnostics, 'size differs');
    assert.deepEqual(oo.issue[0].expression, ['Bundle.entry[1].resource.content[0].attachment.size']);
    assert.equal(outcomeFromError(new CarnetError('X', 'forbidden', 'no')).issue[0].expression, undefined);
  });

  test('operationOutcome builds several issues; warnings', () => {
    const oo = operationOutcome([
      { severity: 'warning', code: 'informational', diagnostics: 'a', details: { code: 'W1', display: 'W one' } },
      { severity: 'error', code: 'value', diagnostics: 'b', expression: ['x'] },
    ]);
    assert.equal(oo.issue.length, 2);
    assert.equal(oo.issue[0].details?.coding?.[0].display, 'W one');
    assert.deepEqual(oo.issue[1].expression, ['x']);
    const w = outcomeFromWarnings([{ code: 'PartialFolderContentNotProcessed', message: 'folders', expression: ['Bundle.entry[3]'] }]);
    assert.equal(w.issue[0].severity, 'warning');
    assert.equal(w.issue[0].code, 'incomplete');
    assert.equal(w.issue[0].details?.coding?.[0].code, 'PartialFolderContentNotProcessed');
  });
});
