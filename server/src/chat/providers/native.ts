// Native agents: the agent's prompt + the conversation's history + the new message, sent to any
// OpenAI-compatible endpoint (OPENAI_BASE_URL) and streamed back.
import OpenAI from 'openai';
import type { ChatCompletionContentPart, ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { Agent, DecoratorHandler, type Dispatcher } from 'undici';
import { IDLE_CONNECTION_MS } from '../../http/connections.js';
import type { Agent as AgentRow, FileRow, Message } from '../../db/schema.js';
import { signedFileUrl, type SignedUrlConfig } from '../../files/signed-url.js';
import { HttpError } from '../../http/errors.js';
import { historyText, type ChatInput, type ChatProvider, type ProviderError } from './types.js';

const HISTORY_LIMIT = 50;

export interface NativeOptions {
  baseUrl: string | null;
  apiKey: string | null;
  idleTimeoutMs: number;
  maxLineBytes: number;
  /** Images as signed links to this server (NATIVE_IMAGE_URLS=signed) rather than data: URLs. */
  signedUrls?: SignedUrlConfig | null;
}

export function nativeProvider(options: NativeOptions): ChatProvider {
  const client =
    options.baseUrl || options.apiKey
      ? new OpenAI({
          baseURL: options.baseUrl ?? undefined,
          apiKey: options.apiKey ?? 'not-needed',
          maxRetries: 1,
          timeout: 120_000,
          // fetch's own pool keeps idle connections 4 s only.
          fetchOptions: { dispatcher: new Agent({ keepAliveTimeout: IDLE_CONNECTION_MS }).compose(lineLimit(options.maxLineBytes)) },
        })
      : null;

  return {
    async answer(input, emit) {
      if (!client) {
        emit({
          type: 'error',
          error: { message: 'No model endpoint is configured: set OPENAI_BASE_URL (and OPENAI_API_KEY).', code: 'not_configured' },
        });
        return;
      }
      let finished = false;
      // The SDK's own time-out ends with the response headers; a model that goes silent mid-answer is
      // caught here, by a timer re-armed on every chunk.
      const silence = new AbortController();
      const idle = setTimeout(() => silence.abort(), options.idleTimeoutMs);
      try {
        const stream = await client.chat.completions.create(
          {
            model: input.agent.model,
            messages: await toMessages(input, await input.loadHistory(), options.signedUrls ?? null),
            stream: true,
            stream_options: { include_usage: true },
          },
          { signal: AbortSignal.any([input.signal, silence.signal]) },
        );
        for await (const chunk of stream) {
          idle.refresh();
          const choice = chunk.choices[0];
          // reasoning_content is the common extension of OpenAI-compatible reasoning models.
          const delta = choice?.delta as { content?: string | null; reasoning_content?: string | null } | undefined;
          let clientBehind: Promise<void> | undefined;
          if (delta?.reasoning_content) clientBehind = emit({ type: 'reasoning-delta', text: delta.reasoning_content });
          if (delta?.content) clientBehind = emit({ type: 'text-delta', text: delta.content }) ?? clientBehind;
          if (choice?.finish_reason) finished = true;
          if (chunk.usage) {
            const { prompt_tokens, completion_tokens, total_tokens } = chunk.usage;
            emit({ type: 'usage', usage: { prompt_tokens, completion_tokens, total_tokens } });
          }
          if (clientBehind) await clientBehind;
        }
      } catch (error) {
        if (!input.signal.aborted && !silence.signal.aborted) {
          emit({ type: 'error', error: describe(error) });
          return;
        }
      } finally {
        clearTimeout(idle);
      }
      // An abort can end the SDK's stream quietly (no throw), so the reason is read here.
      if (input.signal.aborted) return;
      if (silence.signal.aborted) {
        emit({
          type: 'error',
          error: {
            message: `The model stopped sending for ${options.idleTimeoutMs / 1000} s; the answer was cut off.`,
            code: 'upstream_timeout',
          },
        });
      } else if (!finished) {
        emit({
          type: 'error',
          error: { message: 'The model stopped answering before it finished (connection lost).', code: 'upstream_incomplete' },
        });
      }
    },
  };
}

/**
 * What a native agent reads of a message's files: images always; other files only when the agent
 * accepts files, and then text files alone (their text goes to the model). Throws the 400 that says
 * which file it cannot read.
 */
export function checkNativeAttachments(agent: Pick<AgentRow, 'acceptsFiles'>, files: FileRow[]): void {
  for (const file of files) {
    if (file.contentType.startsWith('image/') || (agent.acceptsFiles && file.contentType === 'text/plain')) continue;
    throw new HttpError(
      400,
      agent.acceptsFiles
        ? `This agent reads images and text files; ${file.name} is neither.`
        : `This agent reads images only; ${file.name} is not an image.`,
      'file_not_accepted',
    );
  }
}

async function toMessages(input: ChatInput, history: Message[], signedUrls: SignedUrlConfig | null): Promise<ChatCompletionMessageParam[]> {
  const messages: ChatCompletionMessageParam[] = [];
  if (input.agent.prompt.trim()) messages.push({ role: 'system', content: input.agent.prompt });
  for (const message of history.slice(-HISTORY_LIMIT)) {
    const text = historyText(message);
    if (text) messages.push({ role: message.role, content: text });
  }
  messages.push({ role: 'user', content: await newMessageContent(input, signedUrls) });
  return messages;
}

/** The new message: its text, then each file as a content part (images as data: URLs or signed links, text files as their text). */
async function newMessageContent(input: ChatInput, signedUrls: SignedUrlConfig | null): Promise<string | ChatCompletionContentPart[]> {
  if (!input.attachments.length) return input.message;
  const parts: ChatCompletionContentPart[] = input.message ? [{ type: 'text', text: input.message }] : [];
  for (const file of input.attachments) {
    if (file.kind === 'image' && signedUrls) {
      parts.push({ type: 'image_url', image_url: { url: signedFileUrl(signedUrls, file.id) } });
      continue;
    }
    const bytes = await file.bytes();
    if (file.kind === 'image')
      parts.push({ type: 'image_url', image_url: { url: `data:${file.contentType};base64,${bytes.toString('base64')}` } });
    else parts.push({ type: 'text', text: `The file ${file.name}:\n\n${bytes.toString('utf8')}` });
  }
  return parts;
}

/**
 * What the user is told: the endpoint's status in words, never its own error text, which may echo
 * the API key or name internal hosts. That text goes to the log, redacted, as the error's cause.
 */
function describe(error: unknown): ProviderError {
  for (let cause = error; cause instanceof Error; cause = cause.cause) {
    if (cause instanceof LineTooLong) {
      return {
        message: 'The model endpoint sent a line too long for this server to read, so the answer was cut off there.',
        code: 'upstream_line_too_long',
      };
    }
  }
  if (error instanceof OpenAI.APIConnectionTimeoutError)
    return { message: 'The model endpoint timed out.', code: 'upstream_timeout', cause: error };
  if (error instanceof OpenAI.APIConnectionError)
    return { message: 'Could not reach the model endpoint.', code: 'upstream_unreachable', cause: error };
  if (error instanceof OpenAI.APIError) {
    const message = error.status
      ? `The model endpoint answered ${error.status}: ${statusMeaning(error.status)}`
      : 'The model endpoint sent an error mid-answer.';
    return { message, code: 'upstream_error', cause: error };
  }
  return { message: 'The model stopped answering before it finished (connection lost).', code: 'upstream_incomplete', cause: error };
}

function statusMeaning(status: number): string {
  if (status === 401 || status === 403) return 'it refused the credentials (OPENAI_API_KEY).';
  if (status === 404) return "it does not know the agent's model, or OPENAI_BASE_URL is wrong.";
  if (status === 429) return 'it is rate-limiting requests. Please wait a moment and try again.';
  if (status >= 500) return 'an error on its side. Please try again later.';
  return 'it refused the request.';
}

class LineTooLong extends Error {}

// DecoratorHandler passes every callback on to the handler it wraps; its typings leave them out.
const PassOn = DecoratorHandler as unknown as new (handler: Dispatcher.DispatchHandlers) => {
  onConnect(abort: (error?: Error) => void): void;
  onData(chunk: Buffer): boolean;
};

/**
 * Ends a response as soon as a line of it outgrows `maxBytes`: the SDK's stream reader would hold
 * such a line whole. Counts with a number per chunk read, not per event.
 */
function lineLimit(maxBytes: number): Dispatcher.DispatcherComposeInterceptor {
  class LineLimit extends PassOn {
    private abort: ((error?: Error) => void) | undefined;
    private lineBytes = 0;

    override onConnect(abort: (error?: Error) => void): void {
      this.abort = abort;
      super.onConnect(abort);
    }

    override onData(chunk: Buffer): boolean {
      const lastNewline = chunk.lastIndexOf(10);
      this.lineBytes = lastNewline === -1 ? this.lineBytes + chunk.length : chunk.length - lastNewline - 1;
      if (this.lineBytes <= maxBytes) return super.onData(chunk);
      this.abort?.(new LineTooLong(`a response line over ${maxBytes} bytes`));
      return false;
    }
  }
  return (dispatch) => (options, handler) => dispatch(options, new LineLimit(handler));
}
