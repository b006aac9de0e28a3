// HTTP plumbing shared by the handlers: bodies in, JSON and Status errors out.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError } from './status.ts';
import type { Obj } from './types.ts';

export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export function sendJson(res: ServerResponse, code: number, body: unknown, warnings: string[] = []): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  const headers: Record<string, string | string[]> = { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) };
  // The real server reports dropped unknown fields (fieldValidation=Warn) in Warning headers.
  if (warnings.length) headers.warning = warnings.map((w) => `299 - ${JSON.stringify(w)}`);
  res.writeHead(code, headers);
  res.end(text);
}

export function sendText(res: ServerResponse, code: number, text: string, contentType = 'text/plain; charset=utf-8'): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(code, { 'content-type': contentType, 'content-length': String(Buffer.byteLength(text)) });
  res.end(text);
}

/** Any error as a Status: ApiErrors as they are, anything else as a 500 InternalError (a bug of the simulation). */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new ApiError(500, 'InternalError', `Internal error occurred: ${message}`, { causes: [{ message }] });
}

export function sendError(res: ServerResponse, err: unknown): void {
  const e = toApiError(err);
  if (!(err instanceof ApiError)) console.error('sim server bug:', err);
  sendJson(res, e.code, e.toStatus());
}

export function parseJson(text: string, what: string): Obj {
  try {
    return JSON.parse(text) as Obj;
  } catch (err) {
    throw new ApiError(400, 'BadRequest', `${what}: ${(err as Error).message}`);
  }
}

export function boolParam(v: string | null): boolean {
  return v === 'true' || v === '1';
}
