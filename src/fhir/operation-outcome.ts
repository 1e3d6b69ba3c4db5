/// <reference types="fhir" />
/**
 * FHIR OperationOutcome from Carnet errors and warnings. The HTTP layer picks the status from the
 * error kind; this file only says what goes in the body.
 */
import type { CarnetError, ErrorKind } from '../domain/errors.ts';

/** Code system of Carnet's stable error codes (`MHD_HASH_MISMATCH`, `INS_KEY`, …). */
export const CARNET_ERROR_SYSTEM = 'https://carnet.example.org/fhir/CodeSystem/error-code';

export type IssueSeverity = fhir4.OperationOutcomeIssue['severity'];
export type IssueType = fhir4.OperationOutcomeIssue['code'];

export interface IssueInput {
  severity: IssueSeverity;
  code: IssueType;
  diagnostics: string;
  expression?: string[];
  /** A Carnet error code (system CARNET_ERROR_SYSTEM) or any coding. */
  details?: { code: string; display?: string; system?: string };
}

export function operationOutcome(issues: IssueInput[]): fhir4.OperationOutcome {
  return {
    resourceType: 'OperationOutcome',
    issue: (issues.length ? issues : [{ severity: 'information', code: 'informational', diagnostics: 'ok' } as IssueInput]).map(
      (i) => ({
        severity: i.severity,
        code: i.code,
        ...(i.details
          ? {
              details: {
                coding: [
                  {
                    system: i.details.system ?? CARNET_ERROR_SYSTEM,
                    code: i.details.code,
                    ...(i.details.display ? { display: i.details.display } : {}),
                  },
                ],
                text: i.diagnostics,
              },
            }
          : {}),
        diagnostics: i.diagnostics,
        ...(i.expression?.length ? { expression: [...i.expression] } : {}),
      }),
    ),
  };
}

const BY_KIND: Record<Exclude<ErrorKind, 'invalid'>, IssueType> = {
  not_found: 'not-found',
  forbidden: 'forbidden',
  unauthorized: 'login',
  conflict: 'conflict',
  gone: 'deleted',
  too_large: 'too-costly',
  unsupported: 'not-supported',
  rate_limited: 'throttled',
};

const ISSUE_TYPES = new Set<string>([
  'invalid', 'structure', 'required', 'value', 'invariant', 'security', 'login', 'unknown', 'expired', 'forbidden',
  'suppressed', 'processing', 'not-supported', 'duplicate', 'multiple-matches', 'not-found', 'deleted', 'too-long',
  'code-invalid', 'extension', 'too-costly', 'business-rule', 'conflict', 'transient', 'lock-error', 'no-store',
  'exception', 'timeout', 'incomplete', 'throttled', 'informational',
]);

/**
 * The issue type of an `invalid` error, from its code: a missing element is `required`, a body that
 * is not the expected resource is `structure`, a wrong value is `value`, anything else `invalid`.
 * `details.fhirIssueType` overrides when a caller knows better.
 */
function invalidIssueType(err: CarnetError): IssueType {
  const override = err.details?.fhirIssueType;
  if (typeof override === 'string' && ISSUE_TYPES.has(override)) return override as IssueType;
  const c = err.code;
  if (/(^|_)MISSING(_|$)|_NO_|_EMPTY_/.test(c)) return 'required';
  if (/NOT_A_|UNEXPECTED_RESOURCE|_STRUCTURE|MODIFIER_EXTENSION|MULTIPLE_/.test(c)) return 'structure';
  if (/UNKNOWN_PARAMETER|UNSUPPORTED/.test(c)) return 'not-supported';
  if (/DUPLICATE/.test(c)) return 'duplicate';
  if (/BAD_|MISMATCH|WRONG_|INVALID|_KEY|_FORMAT/.test(c)) return 'value';
  return 'invalid';
}

export function issueTypeFor(err: CarnetError): IssueType {
  return err.kind === 'invalid' ? invalidIssueType(err) : BY_KIND[err.kind];
}

export function outcomeFromError(err: CarnetError): fhir4.OperationOutcome {
  return operationOutcome([
    {
      severity: 'error',
      code: issueTypeFor(err),
      diagnostics: err.message,
      details: { code: err.code },
      ...(err.expression?.length ? { expression: err.expression } : {}),
    },
  ]);
}

/** Warnings (e.g. ITI-65 PartialFolderContentNotProcessed) as an OperationOutcome. */
export function outcomeFromWarnings(
  warnings: Array<{ code: string; message: string; expression?: string[] }>,
): fhir4.OperationOutcome {
  return operationOutcome(
    warnings.map((w) => ({
      severity: 'warning' as const,
      code: /^Partial/.test(w.code) ? ('incomplete' as const) : ('informational' as const),
      diagnostics: w.message,
      details: { code: w.code },
      ...(w.expression?.length ? { expression: w.expression } : {}),
    })),
  );
}
