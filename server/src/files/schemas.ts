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
