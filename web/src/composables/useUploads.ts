// The files attached to the message being written: each uploads as soon as it is attached, with its
// progress, and fails on its own (its error shown beside it) without touching the text or the others.
import { computed, ref } from 'vue';
import { errorMessage } from '../api';
import type { Attachment } from '@agentport/server/contract';
import { fileLimits, isShownImage, tooLargeMessage, uploadFile } from '../files';

export interface PendingFile {
  key: string;
  name: string;
  size: number;
  contentType: string;
  /** A local object URL of the file, when it is an image the page shows (revoked when it goes). */
  previewUrl: string | null;
  /** Share of the file sent so far, 0 to 1. */
  progress: number;
  /** The stored file, once uploaded. */
  uploaded: Attachment | null;
  error: string | null;
  controller: AbortController;
}

let keys = 0;

export function useUploads() {
  const files = ref<PendingFile[]>([]);
  /** Why some of the files last attached were not (too many for one message). */
  const limitError = ref<string | null>(null);
  const uploading = computed(() => files.value.some((f) => !f.uploaded && !f.error));
  const uploaded = computed(() => files.value.flatMap((f) => (f.uploaded ? [f.uploaded] : [])));

  async function add(list: Iterable<File>): Promise<void> {
    const added = [...list];
    if (added.length === 0) return;
    let limits;
    try {
      limits = await fileLimits();
    } catch (err) {
      limitError.value = errorMessage(err);
      return;
    }
    const room = limits.perMessage - files.value.filter((f) => !f.error).length;
    const accepted = added.slice(0, Math.max(room, 0));
    const refused = added.length - accepted.length;
    limitError.value = refused
      ? `A message can carry at most ${limits.perMessage} files: ${refused === 1 ? '1 file was' : `${refused} files were`} not attached.`
      : null;
    for (const file of accepted) {
      // Too large for the server: said at once, and never sent.
      const tooLarge = file.size > limits.maxBytes;
      files.value.push({
        key: `file-${++keys}`,
        name: file.name,
        size: file.size,
        contentType: file.type,
        previewUrl: isShownImage(file.type) ? URL.createObjectURL(file) : null,
        progress: 0,
        uploaded: null,
        error: tooLarge ? tooLargeMessage(limits.maxBytes) : null,
        controller: new AbortController(),
      });
      if (tooLarge) continue;
      // The reactive proxy of the entry just pushed: its progress re-renders as it changes.
      void upload(files.value[files.value.length - 1]!, file);
    }
  }

  async function upload(entry: PendingFile, file: File): Promise<void> {
    try {
      entry.uploaded = await uploadFile(file, (sent) => (entry.progress = sent), entry.controller.signal);
      entry.progress = 1;
    } catch (err) {
      if (!entry.controller.signal.aborted) entry.error = errorMessage(err);
    }
  }

  function release(entry: PendingFile): void {
    entry.controller.abort();
    if (entry.previewUrl) URL.revokeObjectURL(entry.previewUrl);
  }

  function remove(key: string): void {
    const index = files.value.findIndex((f) => f.key === key);
    if (index === -1) return;
    release(files.value[index]!);
    files.value.splice(index, 1);
    limitError.value = null;
  }

  /** Lets go of every file (sent, or the page left): stops uploads, revokes previews. */
  function clear(): void {
    files.value.forEach(release);
    files.value = [];
    limitError.value = null;
  }

  return { files, limitError, uploading, uploaded, add, remove, clear };
}
