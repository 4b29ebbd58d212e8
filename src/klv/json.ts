/** Hand-built JSON for tag objects: the same text JSON.stringify gives, without its per-call overhead. */
import type { KlvTag, KlvTags } from './types.js';

/** True for the value of a nested set: an object whose members are all tag objects. */
function isTagsObject(v: object): boolean {
  if (Array.isArray(v) || Object.getPrototypeOf(v) !== Object.prototype) return false;
  for (const k in v) {
    const t = (v as Record<string, unknown>)[k];
    if (t === null || typeof t !== 'object' || typeof (t as { name?: unknown }).name !== 'string' || !('value' in t)) return false;
  }
  return true;
}

export function valueJson(v: unknown): string {
  switch (typeof v) {
    case 'number':
      return Number.isFinite(v) ? String(v) : 'null';
    case 'string':
      return JSON.stringify(v);
    case 'boolean':
      return v ? 'true' : 'false';
    case 'object':
      if (v === null) return 'null';
      return isTagsObject(v) ? tagsJson(v as KlvTags) : JSON.stringify(v);
    default:
      return 'null';
  }
}

export function tagJson(t: KlvTag): string {
  // Tags with a toJSON (timestamps) or unusual prototypes take the generic path.
  if (Object.getPrototypeOf(t) !== Object.prototype) return JSON.stringify(t);
  let s = '{"name":' + JSON.stringify(t.name) + ',"value":' + valueJson(t.value);
  if (t.units !== undefined) s += ',"units":' + JSON.stringify(t.units);
  if (t.text !== undefined) s += ',"text":' + JSON.stringify(t.text);
  if (t.flags !== undefined) s += ',"flags":' + JSON.stringify(t.flags);
  if (t.error !== undefined) s += ',"error":' + JSON.stringify(t.error);
  if (t.repeats !== undefined) s += ',"repeats":[' + t.repeats.map(tagJson).join(',') + ']';
  return s + '}';
}

export function tagsJson(tags: KlvTags): string {
  let s = '{';
  let first = true;
  for (const k in tags) {
    const t = tags[k];
    if (t === undefined) continue;
    // Keys are tag numbers or UL hex, which need no escaping.
    s += (first ? '"' : ',"') + k + '":' + tagJson(t);
    first = false;
  }
  return s + '}';
}
