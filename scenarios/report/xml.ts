// Text made safe for XML 1.0 attribute values and element content. No XML library is a
// dependency of the CLI, and the JUnit report needs only this.

// Characters XML 1.0 does not allow at all (C0 controls but tab/newline/return, lone surrogates,
// U+FFFE/U+FFFF): log lines and error messages can carry them, and one would make the file unparseable.
const INVALID = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

/** Escapes markup characters and replaces characters XML cannot hold with U+FFFD. */
export function xmlText(value: string): string {
  return value.replace(INVALID, '\uFFFD').replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

/** An attribute list, ` a="x" b="y"`, skipping undefined values. */
export function xmlAttrs(attrs: Record<string, string | number | undefined>): string {
  return Object.entries(attrs)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` ${k}="${xmlText(String(v))}"`)
    .join('');
}
