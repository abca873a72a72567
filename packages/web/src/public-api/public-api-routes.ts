import { type HearthConfig, HearthError } from "@hearth/core";
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { currentUser } from "../auth/route-access.js";
import { type ChatTurnDeps, estimateTokens } from "../chat/chat-turn.js";
import type { OutputMasker } from "../chat/content-filter.js";
import { groundTurn } from "../grounding/grounding.js";
import type { KnowledgeAccess } from "../knowledge/knowledge-access.js";
import type { ModelAccess } from "../models/model-access.js";
import { postJson, readAll } from "./upstream-request.js";

interface Deps extends ChatTurnDeps {
  config: HearthConfig;
  modelAccess: ModelAccess;
  knowledgeAccess: KnowledgeAccess;
}

/** OpenAI's request, tolerant of fields we pass on, plus Hearth's documented extras. */
const completionRequest = z
  .object({
    model: z.string().min(1).max(200),
    messages: z
      .array(
        z
          .object({
            role: z.enum(["system", "user", "assistant", "developer", "tool"]),
            content: z
              .union([
                z.string(),
                z.array(z.object({ type: z.string(), text: z.string().optional() }).passthrough()),
              ])
              .nullish(),
          })
          .passthrough(),
      )
      .min(1),
    stream: z.boolean().optional(),
    /** Hearth: knowledge bases to ground the answer in (ids the key's user may read). */
    knowledge_base_ids: z.array(z.string().min(1)).max(20).optional(),
    /** Hearth: web search, "off" (default), "auto" (the model decides) or "on". */
    web_search: z.enum(["off", "auto", "on"]).optional(),
  })
  .passthrough();

function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) return content.map((part) => (part as { text?: string }).text ?? "").join("");
  return "";
}

const usageTail = /"usage":\{"prompt_tokens":(\d+),"completion_tokens":(\d+)/;

/**
 * The public OpenAI-compatible API for API-key clients (Chatbox, Cherry Studio, Continue,
 * scripts): `/v1/models` lists the models the key's user may use; `/v1/chat/completions` passes
 * the model service's stream through byte for byte (no re-encoding) unless grounding or the output
 * filter has to change it.
 */
export function registerPublicApi(app: FastifyInstance, deps: Deps) {
  app.get("/v1/models", { config: { access: "user" } }, async (request) => {
    const user = currentUser(request);
    const models = await deps.modelAccess.filter(user, await deps.models.listModels());
    return {
      object: "list",
      data: models.map((m) => ({ id: m.id, object: "model", created: 0, owned_by: m.ownedBy })),
    };
  });

  app.post("/v1/chat/completions", { config: { access: "user" } }, async (request, reply) => {
    const user = currentUser(request);
    const body = completionRequest.parse(request.body);
    const { knowledge_base_ids: knowledgeBaseIds = [], web_search: search = "off", ...forwarded } = body;
    await deps.modelAccess.assertAllowed(user, body.model);
    for (const id of knowledgeBaseIds) await deps.knowledgeAccess.assert(user, id, "read");
    await deps.usage.check(user);
    const lastUser = [...body.messages].reverse().find((m) => m.role === "user");
    const question = textOf(lastUser?.content);
    if (question.length > deps.config.web.maxMessageChars)
      throw new HearthError(
        "MESSAGE_TOO_LONG",
        `A message may have at most ${deps.config.web.maxMessageChars} characters`,
      );
    await deps.contentFilter.checkInput(question);

    const grounding = await groundTurn(
      { query: question, model: body.model, knowledgeBaseIds, search },
      { knowledge: deps.knowledge, search: deps.search, model: deps.models },
    );
    const messages = grounding.systemMessage ? [grounding.systemMessage, ...body.messages] : body.messages;
    const stream = body.stream === true;
    const upstreamBody = {
      ...forwarded,
      messages,
      ...(stream ? { stream_options: { include_usage: true } } : {}),
    };

    const controller = new AbortController();
    const url = `${deps.config.services.modelUrl.replace(/\/$/, "")}/v1/chat/completions`;
    const response = await postJson(
      url,
      JSON.stringify(upstreamBody),
      deps.config.services.token ? { "x-hearth-service-token": deps.config.services.token } : {},
      controller.signal,
    );
    const status = response.statusCode ?? 502;
    const record = (promptTokens: number, completionTokens: number) =>
      deps.usage
        .record({
          userId: user.id,
          model: body.model,
          promptTokens,
          completionTokens,
          ...(request.apiKeyId ? { apiKeyId: request.apiKeyId } : {}),
        })
        .catch(() => {});

    if (!stream || status >= 300) {
      const text = await readAll(response);
      if (status >= 300) {
        reply.code(status >= 500 ? 502 : status);
        return reply.type("application/json").send(text);
      }
      const answer = JSON.parse(text) as {
        choices?: Array<{ message?: { content?: string } }>;
        usage?: { prompt_tokens?: number; completion_tokens?: number };
      };
      for (const choice of answer.choices ?? [])
        if (choice.message?.content)
          choice.message.content = await deps.contentFilter.maskOutput(choice.message.content);
      await record(
        answer.usage?.prompt_tokens ?? estimateTokens(question),
        answer.usage?.completion_tokens ?? 0,
      );
      return reply.type("application/json").send({
        ...answer,
        ...(grounding.citations.length ? { hearth: { citations: grounding.citations } } : {}),
      });
    }

    reply.hijack();
    const raw = reply.raw;
    const cache = response.headers["x-hearth-cache"];
    raw.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache, no-transform",
      "x-accel-buffering": "no",
      ...(typeof cache === "string" ? { "x-hearth-cache": cache } : {}),
    });
    raw.on("close", () => {
      if (!raw.writableFinished) controller.abort(new Error("client went away"));
    });
    const onShutdown = () => controller.abort(new Error("shutting down"));
    deps.shutdownSignal.addEventListener("abort", onShutdown, { once: true });
    if (grounding.citations.length > 0) {
      raw.write(
        `data: ${JSON.stringify({ id: "hearth-sources", object: "chat.completion.chunk", created: Math.floor(Date.now() / 1000), model: body.model, choices: [], hearth: { citations: grounding.citations } })}\n\n`,
      );
    }
    const masker = await deps.contentFilter.outputMasker();
    // The last bytes seen, where the usage chunk arrives; kept as a Buffer, decoded once at the end.
    let tail: Buffer = Buffer.alloc(0);
    let pending = "";
    try {
      for await (const chunk of response as AsyncIterable<Buffer>) {
        let out: Buffer | string = chunk;
        if (masker) {
          pending += chunk.toString("utf8");
          const cut = pending.lastIndexOf("\n\n");
          if (cut === -1) continue;
          out = maskEvents(pending.slice(0, cut + 2), masker);
          pending = pending.slice(cut + 2);
        }
        tail =
          chunk.length >= 1024
            ? chunk.subarray(chunk.length - 1024)
            : Buffer.concat([tail.subarray(Math.max(0, tail.length + chunk.length - 1024)), chunk]);
        if (!raw.write(out)) await new Promise((resolve) => raw.once("drain", resolve));
      }
    } catch {
      // the client left or the model failed: what was sent stays sent
    } finally {
      deps.shutdownSignal.removeEventListener("abort", onShutdown);
      if (pending && masker) raw.write(maskEvents(pending, masker));
      raw.end();
      const usage = usageTail.exec(tail.toString("utf8"));
      await record(usage ? Number(usage[1]) : estimateTokens(question), usage ? Number(usage[2]) : 0);
    }
  });
}

/** Masks the text deltas of whole SSE events (only when the output filter is on). */
function maskEvents(events: string, masker: OutputMasker): string {
  return events.replace(/^data: (\{.*\})$/gm, (line, json: string) => {
    try {
      const chunk = JSON.parse(json) as {
        choices?: Array<{ delta?: { content?: string }; finish_reason?: string | null }>;
      };
      for (const choice of chunk.choices ?? []) {
        if (typeof choice.delta?.content === "string")
          choice.delta.content = masker.push(choice.delta.content);
        if (choice.finish_reason)
          choice.delta = { ...choice.delta, content: `${choice.delta?.content ?? ""}${masker.flush()}` };
      }
      return `data: ${JSON.stringify(chunk)}`;
    } catch {
      return line;
    }
  });
}
