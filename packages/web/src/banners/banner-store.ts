import { randomUUID } from "node:crypto";
import type { ActiveBanner, Banner, BannerType } from "@hearth/contracts";
import { HearthError } from "@hearth/core";
import type { BannersTable } from "../storage/database-schema.js";
import type { WebDatabase } from "../storage/open-database.js";

/** What a banner is written with (as the route took it: within the limits, times as ISO text). */
export interface BannerInput {
  text: string;
  type: BannerType;
  dismissible: boolean;
  startsAt: string | null;
  endsAt: string | null;
}

function notFound(): HearthError {
  return new HearthError("BANNER_NOT_FOUND", "No such banner");
}

function toBanner(row: BannersTable): Banner {
  return {
    id: row.id,
    text: row.text,
    type: row.type,
    dismissible: Boolean(Number(row.dismissible)),
    startsAt: row.starts_at,
    endsAt: row.ends_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/**
 * Announcement banners and users' dismissals of them, in the web database: every process of the
 * service (cluster workers, replicas on one PostgreSQL database) reads the same rows, with no
 * cache to go stale, so a change is seen everywhere at a user's next read.
 */
export class BannerStore {
  constructor(readonly db: WebDatabase) {}

  /** Every banner, in the order users see them. */
  async list(): Promise<Banner[]> {
    const rows = await this.db.selectFrom("banners").selectAll().orderBy("position").orderBy("id").execute();
    return rows.map(toBanner);
  }

  async get(id: string): Promise<Banner> {
    return toBanner(await this.row(id));
  }

  private async row(id: string): Promise<BannersTable> {
    const row = await this.db.selectFrom("banners").selectAll().where("id", "=", id).executeTakeFirst();
    if (!row) throw notFound();
    return row;
  }

  /** A new banner, after the others. */
  async create(input: BannerInput): Promise<Banner> {
    const now = new Date().toISOString();
    const last = await this.db
      .selectFrom("banners")
      .select((eb) => eb.fn.max("position").as("position"))
      .executeTakeFirst();
    const row: BannersTable = {
      id: randomUUID(),
      text: input.text,
      type: input.type,
      dismissible: input.dismissible ? 1 : 0,
      starts_at: input.startsAt,
      ends_at: input.endsAt,
      position: Number(last?.position ?? 0) + 1,
      revision: 1,
      created_at: now,
      updated_at: now,
    };
    await this.db.insertInto("banners").values(row).execute();
    return toBanner(row);
  }

  /**
   * Changes the fields given; gives back the banner before and after. A changed text raises its
   * revision, so that users who closed it see it again.
   */
  async update(id: string, changes: Partial<BannerInput>): Promise<{ before: Banner; after: Banner }> {
    const row = await this.row(id);
    const textChanged = changes.text !== undefined && changes.text !== row.text;
    await this.db
      .updateTable("banners")
      .set({
        ...(changes.text !== undefined ? { text: changes.text } : {}),
        ...(changes.type !== undefined ? { type: changes.type } : {}),
        ...(changes.dismissible !== undefined ? { dismissible: changes.dismissible ? 1 : 0 } : {}),
        ...(changes.startsAt !== undefined ? { starts_at: changes.startsAt } : {}),
        ...(changes.endsAt !== undefined ? { ends_at: changes.endsAt } : {}),
        ...(textChanged ? { revision: Number(row.revision) + 1 } : {}),
        updated_at: new Date().toISOString(),
      })
      .where("id", "=", id)
      .execute();
    return { before: toBanner(row), after: await this.get(id) };
  }

  /** Deletes a banner and its dismissals; gives back what it was. */
  async delete(id: string): Promise<Banner> {
    const banner = await this.get(id);
    await this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom("banner_dismissals").where("banner_id", "=", id).execute();
      await trx.deleteFrom("banners").where("id", "=", id).execute();
    });
    return banner;
  }

  /**
   * Puts the banners in the order of `ids`, which must name each banner once (INVALID_REQUEST
   * otherwise: another administrator may have added or deleted one meanwhile).
   */
  async reorder(ids: string[]): Promise<Banner[]> {
    await this.db.transaction().execute(async (trx) => {
      const stored = await trx.selectFrom("banners").select("id").execute();
      const known = new Set(stored.map((row) => row.id));
      if (ids.length !== known.size || new Set(ids).size !== ids.length || ids.some((id) => !known.has(id)))
        throw new HearthError("INVALID_REQUEST", "ids: name every banner once, in the new order", {
          details: {
            issues: [
              { path: "ids", message: "name every banner once, in the new order", code: "invalid_value" },
            ],
          },
        });
      for (const [index, id] of ids.entries())
        await trx
          .updateTable("banners")
          .set({ position: index + 1 })
          .where("id", "=", id)
          .execute();
    });
    return this.list();
  }

  /** The banners shown to a user at `now`: in their window, and not closed by them since their last text edit. */
  async active(userId: string, now: Date = new Date()): Promise<ActiveBanner[]> {
    const at = now.toISOString();
    const rows = await this.db
      .selectFrom("banners")
      .leftJoin("banner_dismissals", (join) =>
        join
          .onRef("banner_dismissals.banner_id", "=", "banners.id")
          .on("banner_dismissals.user_id", "=", userId),
      )
      .select([
        "banners.id",
        "banners.text",
        "banners.type",
        "banners.dismissible",
        "banners.revision",
        "banner_dismissals.revision as dismissed_revision",
      ])
      .where((eb) => eb.or([eb("banners.starts_at", "is", null), eb("banners.starts_at", "<=", at)]))
      .where((eb) => eb.or([eb("banners.ends_at", "is", null), eb("banners.ends_at", ">", at)]))
      .orderBy("banners.position")
      .orderBy("banners.id")
      .execute();
    return rows
      .filter(
        (row) =>
          !Number(row.dismissible) ||
          row.dismissed_revision === null ||
          Number(row.dismissed_revision) !== Number(row.revision),
      )
      .map((row) => ({
        id: row.id,
        text: row.text,
        type: row.type,
        dismissible: Boolean(Number(row.dismissible)),
        revision: Number(row.revision),
      }));
  }

  /**
   * A user closes a banner: the text they were shown (`seenRevision`, as `active` gave it), else its
   * present one. A text an administrator edited after the user's page read it thus shows again
   * rather than being closed unseen. BANNER_NOT_FOUND for none, BANNER_NOT_DISMISSIBLE for one they
   * may not close. Closing it again changes nothing.
   */
  async dismiss(userId: string, id: string, seenRevision?: number): Promise<void> {
    const row = await this.row(id);
    if (!Number(row.dismissible))
      throw new HearthError("BANNER_NOT_DISMISSIBLE", "This banner cannot be dismissed");
    // Never a text not yet written: one from the future is the present one.
    const revision = Math.min(seenRevision ?? Number(row.revision), Number(row.revision));
    const dismissedAt = new Date().toISOString();
    try {
      await this.db
        .insertInto("banner_dismissals")
        .values({ banner_id: id, user_id: userId, revision, dismissed_at: dismissedAt })
        .onConflict((conflict) =>
          conflict.columns(["banner_id", "user_id"]).doUpdateSet({ revision, dismissed_at: dismissedAt }),
        )
        .execute();
    } catch (error) {
      // Deleted meanwhile (its key refuses the row): as one that never was.
      await this.row(id);
      throw error;
    }
  }
}
