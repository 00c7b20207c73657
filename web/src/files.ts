// Files attached to messages: uploading them, and showing them safely. Their content needs the bearer
// token, so the page fetches it and shows it through an object URL. Only raster images get one that is
// shown: an object URL is a document of this origin, so an SVG or HTML file opened through one could
// run script in the page's name. A download is handed over as opaque bytes for the same reason.
import type { Attachment, FileLimits } from '@agentport/server/contract';
import { api, apiFetch, apiUpload } from './api';

let limits: Promise<FileLimits> | null = null;

/**
 * What the server accepts (its FILES_PER_MESSAGE, FILE_MAX_BYTES, FILE_TYPES), asked once per page
 * load; asked again after a failure. The server checks them again on every upload and message.
 */
export function fileLimits(): Promise<FileLimits> {
  limits ??= api<FileLimits>('/api/ai-agent/files/limits').catch((error: unknown) => {
    limits = null;
    throw error;
  });
  return limits;
}

/** The server's words for a file over FILE_MAX_BYTES (files/routes.ts fileTooLarge), said before uploading it. */
export function tooLargeMessage(maxBytes: number): string {
  const size = maxBytes >= 1024 * 1024 ? `${+(maxBytes / (1024 * 1024)).toFixed(1)} MB` : `${+(maxBytes / 1024).toFixed(1)} KB`;
  return `The file is too large: files of up to ${size} can be sent.`;
}

const SHOWN_IMAGE_TYPES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);

/** Whether the page shows a file of this type as an image (a thumbnail, full size). */
export function isShownImage(contentType: string): boolean {
  return SHOWN_IMAGE_TYPES.has(contentType);
}

/** Uploads one file; `onProgress` gets the share sent so far (0 to 1). */
export function uploadFile(file: File, onProgress: (sent: number) => void, signal: AbortSignal): Promise<Attachment> {
  const form = new FormData();
  form.append('file', file, file.name);
  return apiUpload<Attachment>('/api/ai-agent/files', form, onProgress, signal);
}

async function fetchContent(file: Attachment, signal?: AbortSignal): Promise<Blob> {
  const response = await apiFetch(`/api/ai-agent/files/${encodeURIComponent(file.id)}/content`, {
    signal,
    headers: { Accept: '*/*' },
  });
  return response.blob();
}

/** An object URL showing the image `file` (the caller revokes it once it is no longer shown). */
export async function fetchImageUrl(file: Attachment, signal?: AbortSignal): Promise<string> {
  if (!isShownImage(file.contentType)) throw new Error('This file is not an image the page can show.');
  return URL.createObjectURL(new Blob([await fetchContent(file, signal)], { type: file.contentType }));
}

/** How long a download's object URL outlives the click that started it (the browser reads it meanwhile). */
const DOWNLOAD_URL_LIFETIME_MS = 60_000;

/** Saves `file` under its name, as bytes the browser will not open itself. */
export async function downloadFile(file: Attachment): Promise<void> {
  const bytes = new Blob([await fetchContent(file)], { type: 'application/octet-stream' });
  const url = URL.createObjectURL(bytes);
  const link = document.createElement('a');
  link.href = url;
  link.download = file.name;
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), DOWNLOAD_URL_LIFETIME_MS);
}

/** A file's size for people: 812 bytes, 14 KB, 3.2 MB. */
export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} ${bytes === 1 ? 'byte' : 'bytes'}`;
  const units = ['KB', 'MB', 'GB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}
