/**
 * The one error table: every failure leaves as a precise status and an OperationOutcome (FHIR
 * routes) or an RFC 6749 body (OAuth routes). Nothing else in http/ picks a status for an error.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { CarnetError, type ErrorKind } from '../domain/errors.ts';
import { OAuthError } from '../auth/token-endpoint.ts';
import { outcomeFromError } from '../fhir/operation-outcome.ts';

export const STATUS_BY_KIND: Record<ErrorKind, number> = {
  invalid: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  gone: 410,
  conflict: 409,
  too_large: 413,
  unsupported: 415,
  rate_limited: 429,
};

/** Codes whose semantics are "well-formed but unprocessable" (422 in FHIR's REST guidance). */
const UNPROCESSABLE = new Set(['INS_NOT_QUALIFIED', 'CDA_PATIENT_MISMATCH', 'CDA_TYPE_MISMATCH', 'CDA_AUTHOR_MISMATCH', 'FLAGS_NOT_COMBINABLE']);

export function statusOf(e: CarnetError): number {
  if (e.code === 'FHIR_NOT_ACCEPTABLE') return 406;
  if (UNPROCESSABLE.has(e.code)) return 422;
  return STATUS_BY_KIND[e.kind];
}

/** Fastify's own errors (body parsing, limits) as Carnet errors. */
function fromFastify(err: FastifyError): CarnetError {
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new CarnetError('BODY_TOO_LARGE', 'too_large', 'The request body is larger than this server accepts');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new CarnetError('UNSUPPORTED_MEDIA_TYPE', 'unsupported', 'Send application/fhir+json (XML is not served yet)');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new CarnetError('BODY_EMPTY', 'invalid', 'The request body is empty');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new CarnetError('BODY_LENGTH', 'invalid', 'Content-Length does not match the body');
    default:
      if (err.statusCode === 429) return new CarnetError('RATE_LIMITED', 'rate_limited', 'Too many requests; slow down');
      if (err instanceof SyntaxError || /JSON/.test(err.message)) return new CarnetError('JSON_MALFORMED', 'invalid', 'The body is not well-formed JSON');
      if (err.validation) return new CarnetError('REQUEST_INVALID', 'invalid', err.message);
      if (err.statusCode && err.statusCode < 500) return new CarnetError('REQUEST_INVALID', 'invalid', err.message);
      return new CarnetError('INTERNAL', 'conflict', 'Internal error');
  }
}

export const FHIR_JSON = 'application/fhir+json; charset=utf-8';

export function errorHandler(err: unknown, req: FastifyRequest, reply: FastifyReply) {
  if (err instanceof OAuthError) {
    req.log.info({ reqId: req.id, oauthError: err.error, reason: err.reason }, 'oauth refused');
    return reply.code(err.status).header('cache-control', 'no-store').header('content-type', 'application/json').send(err.body());
  }
  let ce: CarnetError;
  let status: number;
  if (err instanceof CarnetError) {
    ce = err;
    status = statusOf(err);
  } else {
    const fe = err as FastifyError;
    ce = fromFastify(fe);
    status = fe.statusCode === 429 ? 429 : ce.code === 'INTERNAL' ? 500 : statusOf(ce);
    if (status === 500) {
      // a driver's message can echo values (an INS in a duplicate-key error): log where, not what
      const frames = (fe.stack ?? '').split('\n').slice(1, 8).join('\n');
      req.log.error({ reqId: req.id, err: { name: fe.name, code: fe.code, frames } }, 'internal error');
    }
  }
  if (status === 401) reply.header('www-authenticate', `Bearer error="invalid_token"`);
  if (req.url.startsWith('/oauth2/')) {
    return reply.code(status).header('cache-control', 'no-store').send({ error: 'invalid_request', error_description: ce.message });
  }
  return reply.code(status).header('content-type', FHIR_JSON).send(outcomeFromError(ce));
}
