/** Identifiers in the forms Video Server uses, and service names made from file names. */
import { randomUUID } from 'node:crypto';
import { basename } from 'node:path';

/** "j" + a random UUID, e.g. j1b81346f-1460-482a-94f0-72b78ee843e5. */
export function newJobId(): string {
  return `j${randomUUID()}`;
}

/** "i" + a random UUID: the id of the input file of a job. */
export function newFileId(): string {
  return `i${randomUUID()}`;
}

/** 32 lowercase hex digits, like a portal item id. */
export function newServiceItemId(): string {
  return randomUUID().replace(/-/g, '');
}

/** The form newFileId() makes (uploaded and registered items use it too). */
export const FILE_ID_PATTERN = /^i[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const JOB_ID_PATTERN = /^j[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** Service names are letters, digits and underscores (what `serviceNameFromFile` produces). */
export const SERVICE_NAME_PATTERN = /^[A-Za-z0-9_]{1,120}$/;

/**
 * A service name from an input file name, the way Video Server names services: the extension
 * joins the stem upper-cased (Cheyenne.ts → Cheyenne_TS); anything but letters, digits and
 * underscores becomes an underscore.
 */
export function serviceNameFromFile(input: string): string {
  const base = basename(input.replace(/[\\/]+$/, ''));
  const dot = base.lastIndexOf('.');
  const stem = dot > 0 ? base.slice(0, dot) : base;
  const ext = dot > 0 ? base.slice(dot + 1) : '';
  return sanitizeServiceName(ext ? `${stem}_${ext.toUpperCase()}` : stem);
}

/** Letters, digits and underscores only, no leading/trailing/double underscores, at most 120 characters. */
export function sanitizeServiceName(name: string): string {
  const clean = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^A-Za-z0-9_]+/g, '_')
    .replace(/_+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 120)
    .replace(/_+$/, '');
  return clean.length > 0 ? clean : 'Video';
}

/** The layer name of an input: its file name without the extension. */
export function layerNameFromFile(input: string): string {
  const base = basename(input.replace(/[\\/]+$/, ''));
  const dot = base.lastIndexOf('.');
  const stem = dot > 0 ? base.slice(0, dot) : base;
  return stem.length > 0 ? stem : 'Video';
}

/** The layer id after the highest one a service has on disk (0 for none); ids are listed in order. */
export function layerIdAfter(existing: readonly number[]): number {
  return existing.length > 0 ? existing[existing.length - 1]! + 1 : 0;
}
