import {
  BANNER_TEXT_MAX_CHARS,
  BANNER_TYPES,
  type Banner,
  type BannerType,
  bannerShownAt,
} from "@hearth/contracts/announcement-banner";
import { type FormEvent, useEffect, useRef, useState } from "react";
import { BannerText } from "./announcement-banners.js";
import { api } from "./api.js";
import { DataTable } from "./data-table.js";
import { dateTimeText } from "./display-text.js";
import { fill, type Messages, useI18n } from "./i18n.js";
import { ActionError, useAction } from "./use-action.js";

interface Draft {
  text: string;
  type: BannerType;
  dismissible: boolean;
  /** As a datetime-local field holds it (this browser's time zone); "" for none. */
  startsAt: string;
  endsAt: string;
}

const EMPTY: Draft = { text: "", type: "info", dismissible: true, startsAt: "", endsAt: "" };

/** An ISO time as a datetime-local field shows it, in this browser's time zone. */
function localFieldTime(iso: string | null): string {
  if (!iso) return "";
  const date = new Date(iso);
  return new Date(date.getTime() - date.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
}

/** A datetime-local field's value (this browser's time zone) as the API takes it; null for none. */
function isoFromLocalField(value: string): string | null {
  return value ? new Date(value).toISOString() : null;
}

function windowText(t: Messages, banner: Banner): string {
  const parts = [
    banner.startsAt && fill(t.bannerFrom, { time: dateTimeText(t, banner.startsAt) }),
    banner.endsAt && fill(t.bannerUntil, { time: dateTimeText(t, banner.endsAt) }),
  ].filter(Boolean);
  return parts.length ? parts.join(" ") : t.bannerAlways;
}

function stateOf(banner: Banner, now: Date): "shown" | "scheduled" | "ended" {
  if (bannerShownAt(banner, now)) return "shown";
  return banner.startsAt && Date.parse(banner.startsAt) > now.getTime() ? "scheduled" : "ended";
}

/**
 * Admin → Banners: the announcements every signed-in user sees at the top of the page. Each is
 * written, edited, moved up or down and deleted here (every change audited); its text is one line
 * with links, shown as a preview.
 */
export function AdminBanners() {
  const { t } = useI18n();
  const [banners, setBanners] = useState<Banner[]>();
  const [draft, setDraft] = useState<Draft>(EMPTY);
  /** The banner being edited; undefined while adding one. */
  const [editing, setEditing] = useState<string>();
  const [notice, setNotice] = useState("");
  const { error, run } = useAction();
  const textField = useRef<HTMLTextAreaElement>(null);
  useEffect(() => {
    void run(async () => setBanners((await api<{ banners: Banner[] }>("/api/admin/banners")).banners));
  }, [run]);

  const save = async (event: FormEvent) => {
    event.preventDefault();
    setNotice("");
    const body = {
      text: draft.text,
      type: draft.type,
      dismissible: draft.dismissible,
      startsAt: isoFromLocalField(draft.startsAt),
      endsAt: isoFromLocalField(draft.endsAt),
    };
    const saved = await run(async () => {
      const banner = await api<Banner>(editing ? `/api/admin/banners/${editing}` : "/api/admin/banners", {
        method: editing ? "PATCH" : "POST",
        body,
      });
      setBanners((list = []) =>
        editing ? list.map((b) => (b.id === banner.id ? banner : b)) : [...list, banner],
      );
    });
    if (!saved) return;
    setDraft(EMPTY);
    setEditing(undefined);
    setNotice(t.bannerSaved);
  };
  const edit = (banner: Banner) => {
    setNotice("");
    setEditing(banner.id);
    setDraft({
      text: banner.text,
      type: banner.type,
      dismissible: banner.dismissible,
      startsAt: localFieldTime(banner.startsAt),
      endsAt: localFieldTime(banner.endsAt),
    });
    textField.current?.focus();
  };
  const remove = async (banner: Banner) => {
    if (!window.confirm(fill(t.deleteBannerConfirm, { text: banner.text }))) return;
    setNotice("");
    const deleted = await run(async () => {
      await api(`/api/admin/banners/${banner.id}`, { method: "DELETE" });
      setBanners((list = []) => list.filter((b) => b.id !== banner.id));
    });
    if (!deleted) return;
    if (editing === banner.id) {
      setEditing(undefined);
      setDraft(EMPTY);
    }
    setNotice(t.bannerDeleted);
  };
  const move = async (index: number, by: -1 | 1) => {
    if (!banners) return;
    const ids = banners.map((b) => b.id);
    const [moved] = ids.splice(index, 1);
    ids.splice(index + by, 0, moved!);
    setNotice("");
    await run(async () => {
      const answer = await api<{ banners: Banner[] }>("/api/admin/banners/order", {
        method: "PUT",
        body: { ids },
      });
      setBanners(answer.banners);
    });
  };
  const now = new Date();
  return (
    <section aria-labelledby="banners-title">
      <h3 id="banners-title">{t.banners}</h3>
      <p className="muted">{t.bannersIntro}</p>
      <DataTable
        label={t.banners}
        columns={[t.bannerText, t.bannerType, t.canClose, t.bannerWindow, t.status]}
        actions
      >
        {banners?.map((banner, index) => (
          <tr key={banner.id}>
            <td className="breakable">
              <BannerText text={banner.text} />
            </td>
            <td>{t.bannerTypes[banner.type]}</td>
            <td>{banner.dismissible ? t.auditBooleans.true : t.auditBooleans.false}</td>
            <td>{windowText(t, banner)}</td>
            <td>{t.bannerStates[stateOf(banner, now)]}</td>
            <td className="row-actions">
              <button
                type="button"
                className="small"
                aria-label={fill(t.withNote, { text: t.moveUp, note: banner.text })}
                disabled={index === 0}
                onClick={() => void move(index, -1)}
              >
                {t.moveUp}
              </button>
              <button
                type="button"
                className="small"
                aria-label={fill(t.withNote, { text: t.moveDown, note: banner.text })}
                disabled={index === banners.length - 1}
                onClick={() => void move(index, 1)}
              >
                {t.moveDown}
              </button>
              <button
                type="button"
                className="small"
                aria-label={fill(t.withNote, { text: t.edit, note: banner.text })}
                onClick={() => edit(banner)}
              >
                {t.edit}
              </button>
              <button
                type="button"
                className="small"
                aria-label={fill(t.withNote, { text: t.delete, note: banner.text })}
                onClick={() => void remove(banner)}
              >
                {t.delete}
              </button>
            </td>
          </tr>
        ))}
      </DataTable>
      {banners?.length === 0 && <p className="muted">{t.noBanners}</p>}
      <form className="page-form" onSubmit={save} aria-labelledby="banner-form-title">
        <h4 id="banner-form-title">{editing ? t.editBannerTitle : t.addBanner}</h4>
        {/* Named by its label alone (a label around it would add what it holds to its name). */}
        <label htmlFor="banner-text">{t.bannerText}</label>
        <textarea
          id="banner-text"
          ref={textField}
          rows={2}
          required
          maxLength={BANNER_TEXT_MAX_CHARS}
          aria-describedby="banner-text-hint"
          value={draft.text}
          // One line: a line break typed or pasted becomes a space.
          onChange={(e) => setDraft({ ...draft, text: e.target.value.replace(/[\r\n]+/g, " ") })}
        />
        <p id="banner-text-hint" className="muted">
          {t.bannerTextHint}
        </p>
        {draft.text.trim() && (
          <p className="banner-preview">
            <BannerText text={draft.text} />
          </p>
        )}
        <label>
          {t.bannerType}{" "}
          <select
            value={draft.type}
            onChange={(e) => setDraft({ ...draft, type: e.target.value as BannerType })}
          >
            {BANNER_TYPES.map((type) => (
              <option key={type} value={type}>
                {t.bannerTypes[type]}
              </option>
            ))}
          </select>
        </label>
        <label className="checkbox">
          <input
            type="checkbox"
            checked={draft.dismissible}
            onChange={(e) => setDraft({ ...draft, dismissible: e.target.checked })}
          />{" "}
          {t.bannerDismissible}
        </label>
        <label>
          {t.bannerStartsAt}
          <input
            type="datetime-local"
            value={draft.startsAt}
            aria-describedby="banner-times-hint"
            onChange={(e) => setDraft({ ...draft, startsAt: e.target.value })}
          />
        </label>
        <label>
          {t.bannerEndsAt}
          <input
            type="datetime-local"
            value={draft.endsAt}
            aria-describedby="banner-times-hint"
            onChange={(e) => setDraft({ ...draft, endsAt: e.target.value })}
          />
        </label>
        <p id="banner-times-hint" className="muted">
          {t.bannerTimesHint}
        </p>
        <div className="form-buttons">
          <button type="submit">{editing ? t.saveBanner : t.addBanner}</button>
          {editing && (
            <button
              type="button"
              onClick={() => {
                setEditing(undefined);
                setDraft(EMPTY);
              }}
            >
              {t.cancel}
            </button>
          )}
        </div>
        <ActionError error={error} />
        {notice && <output>{notice}</output>}
      </form>
    </section>
  );
}
