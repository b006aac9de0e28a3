// Errors as the real API server reports them: a metav1.Status body with reason, code and
// details. Messages follow the server's wording so that clients which match on them behave.
import { type Obj, type ResourceType, groupKind, groupResource } from './types.ts';

export interface StatusCause {
  reason?: string;
  message: string;
  field?: string;
}

export class ApiError extends Error {
  readonly code: number;
  readonly reason: string;
  readonly details?: Obj;

  constructor(code: number, reason: string, message: string, details?: Obj) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.reason = reason;
    this.details = details;
  }

  toStatus(): Obj {
    const status: Obj = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: this.message };
    if (this.reason) status.reason = this.reason;
    if (this.details) status.details = this.details;
    status.code = this.code;
    return status;
  }
}

type Named = Pick<ResourceType, 'group' | 'resource'>;

function resourceDetails(rt: Named, name: string): Obj {
  const d: Obj = { name };
  if (rt.group) d.group = rt.group;
  d.kind = rt.resource;
  return d;
}

export function notFound(rt: Named, name: string): ApiError {
  return new ApiError(404, 'NotFound', `${groupResource(rt)} "${name}" not found`, resourceDetails(rt, name));
}

/** The answer for a URL that names no resource the server serves. */
export function noSuchResource(): ApiError {
  return new ApiError(404, 'NotFound', 'the server could not find the requested resource', {});
}

export function alreadyExists(rt: Named, name: string): ApiError {
  return new ApiError(409, 'AlreadyExists', `${groupResource(rt)} "${name}" already exists`, resourceDetails(rt, name));
}

export function conflict(rt: Named, name: string, why: string): ApiError {
  return new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${groupResource(rt)} "${name}": ${why}`, resourceDetails(rt, name));
}

export const STALE = 'the object has been modified; please apply your changes to the latest version and try again';

/** A 422 with one cause per field error, worded like field.ErrorList.ToAggregate(). */
export function invalid(rt: Pick<ResourceType, 'group' | 'kind'>, name: string, causes: StatusCause[]): ApiError {
  const texts = causes.map((c) => (c.field ? `${c.field}: ${c.message}` : c.message));
  const list = texts.length === 1 ? texts[0] : `[${texts.join(', ')}]`;
  const details: Obj = { name };
  if (rt.group) details.group = rt.group;
  details.kind = rt.kind;
  details.causes = causes.map((c) => ({ reason: c.reason ?? 'FieldValueInvalid', message: c.message, field: c.field ?? '' }));
  return new ApiError(422, 'Invalid', `${groupKind(rt)} "${name}" is invalid: ${list}`, details);
}

/** Turns ".spec.x: Required value" (the CRD validator's wording) into a Status cause. */
export function causeFromText(text: string): StatusCause {
  const m = /^\.?([^:]*): (.*)$/s.exec(text);
  const field = m ? m[1] : '';
  const message = m ? m[2] : text;
  let reason = 'FieldValueInvalid';
  if (message.startsWith('Required value')) reason = 'FieldValueRequired';
  else if (message.startsWith('Unsupported value')) reason = 'FieldValueNotSupported';
  else if (message.startsWith('Duplicate value')) reason = 'FieldValueDuplicate';
  else if (message.startsWith('Forbidden')) reason = 'FieldValueForbidden';
  else if (message.includes('field not declared in schema')) reason = 'FieldValueInvalid';
  return { reason, message, field };
}

export function badRequest(message: string): ApiError {
  return new ApiError(400, 'BadRequest', message);
}

export function forbidden(rt: Named, name: string, why: string, causes?: StatusCause[]): ApiError {
  const details = resourceDetails(rt, name);
  if (causes) details.causes = causes;
  const what = name ? `${groupResource(rt)} "${name}"` : groupResource(rt);
  return new ApiError(403, 'Forbidden', `${what} is forbidden: ${why}`, details);
}

export function methodNotAllowed(message: string, details?: Obj): ApiError {
  return new ApiError(405, 'MethodNotAllowed', message, details);
}

export function unsupportedMediaType(contentType: string, accepted: string[]): ApiError {
  return new ApiError(
    415,
    'UnsupportedMediaType',
    `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`,
    { causes: [{ reason: 'UnexpectedHeader', message: `unsupported media type ${contentType}`, field: 'Content-Type header' }] },
  );
}

/** InternalError, as the server wraps errors it classified (webhook failures, injected faults). */
export function internalError(message: string): ApiError {
  return new ApiError(500, 'InternalError', `Internal error occurred: ${message}`, { causes: [{ message }] });
}

/** A 500 for an error the server did not classify (reason Unknown), e.g. SSA's typed-patch failures. */
/** An error the server does not classify: a 500 whose Status carries no reason at all. */
export function unclassified(message: string): ApiError {
  return new ApiError(500, '', message);
}

export function expired(message: string): ApiError {
  return new ApiError(410, 'Expired', message);
}

export function successStatus(rt: Named, name: string, uid: string): Obj {
  const details: Obj = { name };
  if (rt.group) details.group = rt.group;
  details.kind = rt.resource;
  details.uid = uid;
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details };
}
