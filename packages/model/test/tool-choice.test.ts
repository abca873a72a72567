import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Ollama } from "ollama";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeTinyGguf } from "../../../test/support/tiny-gguf.js";
import { startModelService } from "./start-model-service.js";

// Tools a forced call must pick from; every argument an enum, so the held answer is short.
const weather = {
  type: "function" as const,
  function: {
    name: "get_weather",
    description: "The weather in a city",
    parameters: {
      type: "object",
      properties: {
        city: { type: "string", enum: ["Paris", "Oslo"] },
        unit: { type: "string", enum: ["celsius", "fahrenheit"] },
      },
      required: ["city", "unit"],
    },
  },
};
const time = {
  type: "function" as const,
  function: {
    name: "get_time",
    parameters: {
      type: "object",
      properties: { zone: { type: "string", enum: ["UTC", "CET"] } },
      required: ["zone"],
    },
  },
};
const question = [{ role: "user" as const, content: "hello" }];
// A chat template that renders the tools it is given (as Llama 3.1's and Qwen's do).
const toolsTemplate =
  "{% if tools %}tools: {{ tools | tojson }}\n{% endif %}{% for m in messages %}{{ m.role }}: {{ m.content }}\n{% endfor %}assistant:";

let dir: string;
let service: { url: string; close(): Promise<void> };
let openai: OpenAI;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "hearth-tool-choice-"));
  // Its byte-sized tokens spell the tools out one character at a time: a context to hold them.
  await writeTinyGguf(join(dir, "tiny.gguf"), { contextLength: 2048 });
  await writeTinyGguf(join(dir, "tiny-tools.gguf"), { chatTemplate: toolsTemplate, contextLength: 2048 });
  service = await startModelService(dir, { contextSize: 2048 });
  openai = new OpenAI({ baseURL: `${service.url}/v1`, apiKey: "unused", maxRetries: 0 });
});

afterAll(async () => {
  await service?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("tools offered to a model whose template has no place for them", () => {
  it("are refused with 400 TOOLS_NOT_SUPPORTED, as Ollama refuses them, through both APIs", async () => {
    const error = await openai.chat.completions
      .create({ model: "tiny", messages: question, tools: [weather], max_tokens: 4 })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(error).toMatchObject({ status: 400, code: "TOOLS_NOT_SUPPORTED", param: "tools" });
    expect((error as Error).message).toMatch(/"tiny:latest" does not support tools/);

    const ollama = new Ollama({ host: service.url });
    await expect(
      ollama.chat({ model: "tiny", messages: question, tools: [weather], options: { num_predict: 4 } }),
    ).rejects.toMatchObject({ status_code: 400, error: expect.stringMatching(/does not support tools/) });
    // Without tools the same model answers.
    const answer = await ollama.chat({ model: "tiny", messages: question, options: { num_predict: 2 } });
    expect(answer.done).toBe(true);
  });

  it("are taken by a model whose template renders them, and /api/show says which can", async () => {
    const show = async (model: string) =>
      (
        (await (
          await fetch(`${service.url}/api/show`, { method: "POST", body: JSON.stringify({ model }) })
        ).json()) as { capabilities: string[] }
      ).capabilities;
    // As Ollama lists them: chat models complete (only an embedding model lists "embedding").
    expect(await show("tiny-tools")).toEqual(["completion", "tools"]);
    expect(await show("tiny")).toEqual(["completion"]);
    const completion = await openai.chat.completions.create({
      model: "tiny-tools",
      messages: question,
      tools: [weather],
      max_tokens: 4,
      temperature: 0,
    });
    expect(completion.choices[0]?.finish_reason).toMatch(/^(stop|length|tool_calls)$/);
  });

  it("whose documentation leaves the answer no room are a 400 CONTEXT_OVERFLOW, not a failed generation", async () => {
    const wordy = { ...weather, function: { ...weather.function, description: "sunny ".repeat(500) } };
    const error = await openai.chat.completions
      .create({ model: "tiny-tools", messages: question, tools: [wordy], max_tokens: 4 })
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ status: 400, code: "CONTEXT_OVERFLOW" });
  });
});

describe("a forced tool call (tool_choice) on the embedded runtime", () => {
  it("'required' answers with a call of one of the tools, arguments following its parameters", async () => {
    for (const model of ["tiny", "tiny-tools"]) {
      const completion = await openai.chat.completions.create({
        model,
        messages: question,
        tools: [weather, time],
        tool_choice: "required",
        temperature: 0,
      });
      const choice = completion.choices[0]!;
      expect(choice.finish_reason).toBe("tool_calls");
      expect(choice.message.content).toBeNull();
      const call = choice.message.tool_calls?.[0] as { function: { name: string; arguments: string } };
      const args = JSON.parse(call.function.arguments) as Record<string, string>;
      if (call.function.name === "get_weather") {
        expect(["Paris", "Oslo"]).toContain(args.city);
        expect(["celsius", "fahrenheit"]).toContain(args.unit);
      } else {
        expect(call.function.name).toBe("get_time");
        expect(["UTC", "CET"]).toContain(args.zone);
      }
    }
  });

  it("a named function is the one called, streamed as a tool-call delta", async () => {
    const stream = await openai.chat.completions.create({
      model: "tiny",
      messages: question,
      tools: [weather, time],
      tool_choice: { type: "function", function: { name: "get_time" } },
      temperature: 0,
      stream: true,
    });
    const names: string[] = [];
    let args = "";
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      for (const call of chunk.choices[0]?.delta.tool_calls ?? []) {
        if (call.function?.name) names.push(call.function.name);
        args += call.function?.arguments ?? "";
      }
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(names).toEqual(["get_time"]);
    expect(["UTC", "CET"]).toContain((JSON.parse(args) as { zone: string }).zone);
    expect(finish).toBe("tool_calls");
  });

  it("takes a tool without parameters, and a stop sequence does not cut the call short", async () => {
    for (const parameters of [undefined, {}]) {
      const completion = await openai.chat.completions.create({
        model: "tiny",
        messages: question,
        tools: [{ type: "function", function: { name: "now", ...(parameters ? { parameters } : {}) } }],
        tool_choice: "required",
        stop: ["now", "{"],
        temperature: 0,
      });
      const choice = completion.choices[0]!;
      expect(choice.finish_reason).toBe("tool_calls");
      const call = choice.message.tool_calls?.[0] as { function: { name: string; arguments: string } };
      expect(call.function.name).toBe("now");
      expect(typeof JSON.parse(call.function.arguments)).toBe("object");
    }
  });

  it("streams usage: null on every chunk but the last when include_usage is asked", async () => {
    const response = await fetch(`${service.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        model: "tiny",
        messages: question,
        tools: [time],
        tool_choice: "required",
        temperature: 0,
        stream: true,
        stream_options: { include_usage: true },
      }),
    });
    const chunks = (await response.text())
      .split("\n\n")
      .filter((event) => event.startsWith("data: {"))
      .map((event) => JSON.parse(event.slice(6)) as { usage: unknown; choices: unknown[] });
    expect(chunks.slice(0, -1).every((chunk) => chunk.usage === null)).toBe(true);
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { completion_tokens: expect.any(Number) } });
  });

  it("refuses parameters it cannot hold a call to, naming the tool and the field (`param`), and the deprecated functions", async () => {
    const refused = async (body: Record<string, unknown>, param: string) => {
      const error = await openai.chat.completions
        .create({ model: "tiny", messages: question, ...body } as never)
        .catch((caught: unknown) => caught);
      expect(error).toMatchObject({ status: 400, code: "INVALID_REQUEST", param });
      return (error as Error).message;
    };
    const tool = (name: string, parameters: Record<string, unknown>) => ({
      type: "function",
      function: { name, parameters },
    });
    expect(
      await refused(
        { tools: [weather, tool("list", { type: "array", items: { type: "string" } })] },
        "tools[1].function.parameters",
      ),
    ).toMatch(/parameters of tool "list" must be a JSON schema of type "object"/);
    expect(
      await refused(
        {
          tools: [
            weather,
            tool("count", { type: "object", properties: { n: { type: "integer", minimum: 0 } } }),
          ],
          tool_choice: "required",
        },
        "tool_choice",
      ),
    ).toMatch(
      /forces a call of "count", whose parameters .* \$\.properties\.n\.minimum is not supported .*"auto"/,
    );
    expect(
      await refused(
        { tools: [tool("f", { type: "object", required: ["u"] })], tool_choice: "required" },
        "tool_choice",
      ),
    ).toMatch(/"u" has no schema in properties/);
    expect(
      await refused({ functions: [weather.function], function_call: { name: "get_weather" } }, "functions"),
    ).toMatch(/functions is deprecated/);
    expect(await refused({ tools: [weather], tool_choice: "always" }, "tool_choice")).toMatch(
      /tool_choice must be "none", "auto", "required" or/,
    );
  });

  it("a choice that names no tool given, or asks for a call with no tools, is a clear 400", async () => {
    const unknown = await openai.chat.completions
      .create({
        model: "tiny",
        messages: question,
        tools: [weather],
        tool_choice: { type: "function", function: { name: "get_time" } },
      })
      .catch((caught: unknown) => caught);
    // The field refused is named in `param`, as the message names it.
    expect(unknown).toMatchObject({ status: 400, code: "INVALID_REQUEST", param: "tool_choice" });
    expect((unknown as Error).message).toMatch(/tool_choice names "get_time", which is not among the tools/);
    const none = await openai.chat.completions
      .create({ model: "tiny", messages: question, tool_choice: "required" })
      .catch((caught: unknown) => caught);
    expect(none).toMatchObject({ status: 400, code: "INVALID_REQUEST", param: "tool_choice" });
    const garbled = await fetch(`${service.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "tiny", messages: question, tools: [weather], tool_choice: "always" }),
    });
    expect(garbled.status).toBe(400);
  });
});
