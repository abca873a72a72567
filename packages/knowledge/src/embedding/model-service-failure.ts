import { type ErrorCode, HearthError, UpstreamCallError } from "@hearth/core";

/** What a failure's JSON body says: Hearth's `{error: {code, message}}`, or an upstream's `{error: string}`. */
function errorOf(body: string | undefined): { code?: string; message?: string } {
  try {
    const parsed = JSON.parse(body ?? "") as { error?: string | { code?: unknown; message?: unknown } };
    if (typeof parsed.error === "string") return { message: parsed.error };
    return {
      ...(typeof parsed.error?.code === "string" ? { code: parsed.error.code } : {}),
      ...(typeof parsed.error?.message === "string" ? { message: parsed.error.message } : {}),
    };
  } catch {
    return {};
  }
}

/** ": <the model service's error message>" from a failure's body, or "". */
export function upstreamReason(body: string | undefined): string {
  const { message } = errorOf(body);
  return message ? `: ${message.slice(0, 200)}` : "";
}

/** The model service's error code in a failed call's body (MODEL_CANNOT_RERANK, say), if it gave one. */
export function upstreamErrorCode(error: unknown): string | undefined {
  return error instanceof UpstreamCallError ? errorOf(error.responseBody).code : undefined;
}

/**
 * Why a model set on a knowledge base cannot be used, from the model service's failure to use it
 * once (`call`: its UpstreamCallError, or what else the check threw): `notFound` when the service
 * does not have it (404), `unusable` when it refuses to use it so (another 4xx), UPSTREAM_ERROR with
 * its own reason when it answers with another failure (its upstream refusing Hearth's credentials,
 * say), UPSTREAM_UNAVAILABLE when it does not answer. `role` names the setting in the messages
 * ("embedding model"), `cannot` what the model failed at ("cannot embed text"), `choose` and `fix`
 * the ways out.
 */
export function modelCheckFailure(
  model: string,
  call: UpstreamCallError | Error,
  setting: {
    role: string;
    notFound: ErrorCode;
    unusable: ErrorCode;
    cannot: string;
    choose: string;
    fix: string;
    serviceUrlKey: string;
  },
): HearthError {
  const status = call instanceof UpstreamCallError ? call.upstreamStatus : undefined;
  const reason = call instanceof UpstreamCallError ? upstreamReason(call.responseBody) : "";
  const { role, fix } = setting;
  if (status === 404)
    return new HearthError(
      setting.notFound,
      `The ${role} "${model}" is not on the model service: pull it (hearth models pull ${model}) ${fix}`,
      { cause: call },
    );
  if (status !== undefined && status >= 400 && status < 500)
    return new HearthError(
      setting.unusable,
      `The model "${model}" ${setting.cannot} (the model service answered ${status}${reason}): ${setting.choose} ${fix}`,
      { cause: call },
    );
  // It answered, so it runs: what failed is behind it, and its reason says what to fix.
  if (status !== undefined)
    return new HearthError(
      "UPSTREAM_ERROR",
      `Cannot check the ${role} "${model}": the model service answered ${status}${reason}; fix that and try again, ${fix}`,
      { cause: call, details: { service: "model" } },
    );
  return new HearthError(
    "UPSTREAM_UNAVAILABLE",
    `Cannot check the ${role} "${model}": ${call.message}. Start the model service (or fix ${setting.serviceUrlKey}) and try again, ${fix}`,
    { cause: call, details: { service: "model" } },
  );
}
