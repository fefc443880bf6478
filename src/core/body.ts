/**
 * What every HTTP client of the plugin (the API, the remote cache) does with a response body and
 * with a secret: read the body whole but never past a cap, counted after any decompression; and
 * take the secret out of any text before it is shown.
 */

/** The chunks of a body, concatenated; `tooLarge()` is thrown as soon as they pass `maxBytes`. */
export async function readBounded(
  body: AsyncIterable<Uint8Array> | null | undefined,
  maxBytes: number,
  tooLarge: () => Error,
): Promise<Buffer> {
  const chunks: Uint8Array[] = []
  let size = 0
  if (body) {
    for await (const chunk of body) {
      size += chunk.byteLength
      // leaving the loop by a throw cancels the stream, and with it the connection
      if (size > maxBytes)
        throw tooLarge()
      chunks.push(chunk)
    }
  }
  return Buffer.concat(chunks, size)
}

/**
 * A URL as messages may print it, whether or not it parses: any user name and password before an
 * `@` in its authority (`https://bob:pw@host`, or `bob:pw@host` without a scheme) become `***`.
 */
export function redactUrl(url: string): string {
  return url
    .replace(/(\/\/)[^/?#]*@/g, '$1***@')
    .replace(/^(?![a-z][a-z\d+.-]*:\/\/)[^/?#@]*@/i, '***@')
}

/** The text with `secret` (when there is one) replaced by `***`. */
export function redact(text: string, secret: string | undefined): string {
  return secret ? text.split(secret).join('***') : text
}
