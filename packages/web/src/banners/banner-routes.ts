import { BANNER_TEXT_MAX_CHARS, BANNER_TYPES, type Banner } from "@hearth/contracts";
import { HearthError } from "@hearth/core";
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { audit } from "../audit/audit-log.js";
import { currentUser } from "../auth/route-access.js";
import type { ContentFilter } from "../chat/content-filter.js";
import { limitedText } from "../text/limited-text.js";
import type { BannerInput, BannerStore } from "./banner-store.js";

/** A time with its offset (`2026-11-28T22:00:00+08:00`), stored as UTC ISO text (which compares as text). */
const time = z.iso
  .datetime({ offset: true })
  .transform((text) => new Date(text).toISOString())
  .nullable();

const fields = {
  text: limitedText(
    BANNER_TEXT_MAX_CHARS,
    z
      .string()
      .trim()
      .min(1)
      .refine((text) => !/[\r\n]/.test(text), "one line: no line breaks"),
  ),
  type: z.enum(BANNER_TYPES),
  dismissible: z.boolean(),
  startsAt: time,
  endsAt: time,
};
const created = z.strictObject({
  ...fields,
  type: fields.type.default("info"),
  dismissible: fields.dismissible.default(true),
  startsAt: fields.startsAt.default(null),
  endsAt: fields.endsAt.default(null),
});
const changed = z.strictObject(fields).partial();
const order = z.strictObject({ ids: z.array(z.string()).max(1000) });
const dismissal = z.strictObject({ revision: z.number().int().min(1).optional() });

/** An end not after the start: INVALID_REQUEST on endsAt, as a schema's issue names its field. */
function assertWindow(banner: Pick<BannerInput, "startsAt" | "endsAt">): void {
  if (banner.startsAt !== null && banner.endsAt !== null && banner.endsAt <= banner.startsAt) {
    const message = "must be after the start";
    throw new HearthError("INVALID_REQUEST", `endsAt: ${message}`, {
      details: { issues: [{ path: "endsAt", message, code: "invalid_value" }] },
    });
  }
}

/** A banner as the audit log records it. */
function audited(banner: Banner): Record<string, unknown> {
  return {
    text: banner.text,
    type: banner.type,
    dismissible: banner.dismissible,
    startsAt: banner.startsAt,
    endsAt: banner.endsAt,
  };
}

/**
 * Announcement banners. Administrators list, create, change, order and delete them
 * (`/api/admin/banners`, audited as banner.create, -change, -reorder, -delete); every signed-in
 * user reads those shown to them now (`GET /api/banners`) and closes a dismissible one
 * (`POST /api/banners/{id}/dismiss`), which stays closed for them, on every device, until its text
 * is edited. A banner's text is held to the sensitive-word filter on user input (422
 * CONTENT_BLOCKED): it is shown to everyone. A browser session's only: no API key opens them.
 */
export function registerBannerRoutes(
  app: FastifyInstance,
  deps: { banners: BannerStore; contentFilter: ContentFilter },
) {
  const { banners, contentFilter } = deps;
  const admin = { config: { access: "admin" as const } };
  const user = { config: { access: "user" as const } };

  app.get("/api/admin/banners", admin, async () => ({
    banners: await banners.list(),
    textMaxChars: BANNER_TEXT_MAX_CHARS,
  }));

  app.post("/api/admin/banners", admin, async (request, reply) => {
    const actor = currentUser(request);
    const body = created.parse(request.body ?? {});
    assertWindow(body);
    await contentFilter.checkInputs([body.text]);
    const banner = await banners.create(body);
    await audit(banners.db, {
      actorId: actor.id,
      action: "banner.create",
      target: banner.id,
      details: audited(banner),
    });
    return reply.code(201).send(banner);
  });

  app.patch("/api/admin/banners/:id", admin, async (request) => {
    const actor = currentUser(request);
    const { id } = request.params as { id: string };
    // An unknown banner before what the body holds: a deleted one is a 404 whatever it says.
    const stored = await banners.get(id);
    const body = changed.parse(request.body ?? {});
    assertWindow({ startsAt: stored.startsAt, endsAt: stored.endsAt, ...body });
    if (body.text !== undefined) await contentFilter.checkInputs([body.text]);
    const { before, after } = await banners.update(id, body);
    const was = audited(before);
    const now = audited(after);
    const changes = Object.fromEntries(
      Object.keys(now)
        .filter((key) => was[key] !== now[key])
        .map((key) => [key, { from: was[key], to: now[key] }]),
    );
    if (Object.keys(changes).length > 0)
      await audit(banners.db, { actorId: actor.id, action: "banner.change", target: id, details: changes });
    return after;
  });

  app.delete("/api/admin/banners/:id", admin, async (request, reply) => {
    const actor = currentUser(request);
    const { id } = request.params as { id: string };
    const banner = await banners.get(id);
    // Audited before its row goes, as every deletion is.
    await audit(banners.db, {
      actorId: actor.id,
      action: "banner.delete",
      target: id,
      details: audited(banner),
    });
    await banners.delete(id);
    return reply.code(204).send();
  });

  /** The banners in a new order: `ids` names every banner once. */
  app.put("/api/admin/banners/order", admin, async (request) => {
    const actor = currentUser(request);
    const { ids } = order.parse(request.body ?? {});
    const before = await banners.list();
    const after = await banners.reorder(ids);
    if (before.some((banner, index) => banner.id !== after[index]?.id))
      await audit(banners.db, {
        actorId: actor.id,
        action: "banner.reorder",
        details: { order: after.map((banner) => banner.text) },
      });
    return { banners: after, textMaxChars: BANNER_TEXT_MAX_CHARS };
  });

  app.get("/api/banners", user, async (request) => ({
    banners: await banners.active(currentUser(request).id),
  }));

  /** `{revision}` (optional): the text the user was shown, which is the one closed. */
  app.post("/api/banners/:id/dismiss", user, async (request, reply) => {
    const { id } = request.params as { id: string };
    const { revision } = dismissal.parse(request.body ?? {});
    await banners.dismiss(currentUser(request).id, id, revision);
    return reply.code(204).send();
  });
}
