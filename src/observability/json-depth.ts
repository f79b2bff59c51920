import { BadRequestException } from '@nestjs/common';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_ARRAY = 0x5b;
const OPEN_OBJECT = 0x7b;
const CLOSE_ARRAY = 0x5d;
const CLOSE_OBJECT = 0x7d;

/**
 * Whether a JSON text nests arrays and objects more than `limit` levels deep (a top-level object
 * is level 1). One pass over the raw bytes, stopping as soon as the limit is passed; brackets
 * inside strings are text. It does not validate the JSON (the parser does that next): it only
 * keeps a hostile body (10,000 nested arrays) from reaching the recursive parts of parsing,
 * transformation and validation. Safe on UTF-8: no byte of a multi-byte character is ASCII.
 */
export function nestedDeeperThan(json: Uint8Array, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < json.length; i++) {
    const byte = json[i];
    if (inString) {
      if (byte === BACKSLASH) i++; // the escaped character, whatever it is, is text
      else if (byte === QUOTE) inString = false;
    } else if (byte === QUOTE) inString = true;
    else if (byte === OPEN_ARRAY || byte === OPEN_OBJECT) {
      if (++depth > limit) return true;
    } else if (byte === CLOSE_ARRAY || byte === CLOSE_OBJECT) depth--;
  }
  return false;
}

/** The 400 for a body nested past BODY_MAX_DEPTH. */
export class BodyTooDeepException extends BadRequestException {
  constructor(limit: number) {
    super(`Request body is nested too deeply (more than ${limit} levels of arrays and objects)`);
  }
}
