// Files users send to chat, as the API shows them (see ../contract.ts for the web app's types).
import { Type, type Static } from 'typebox';

/** An uploaded file, and a file as a message lists it. */
export const Attachment = Type.Object({
  id: Type.String({ format: 'uuid' }),
  /** The name it was uploaded with (without any folder), for display and downloads. */
  name: Type.String(),
  /** Bytes. */
  size: Type.Integer(),
  /** Read from the file's bytes. */
  contentType: Type.String(),
  kind: Type.Union([Type.Literal('image'), Type.Literal('file')]),
});
export type Attachment = Static<typeof Attachment>;

/** What the server accepts (FILES_PER_MESSAGE, FILE_MAX_BYTES, FILE_TYPES), for the page to check before uploading. */
export const FileLimits = Type.Object({
  perMessage: Type.Integer(),
  maxBytes: Type.Integer(),
  /** Content types, as the file input's accept list takes them. */
  types: Type.Array(Type.String()),
});
export type FileLimits = Static<typeof FileLimits>;
