import { type ActiveBanner, bannerSegments } from "@hearth/contracts/announcement-banner";
import { useCallback, useEffect, useState } from "react";
import { api } from "./api.js";
import { fill, useI18n } from "./i18n.js";

/** How often the page asks for the banners while it is shown (besides on each navigation). */
const BANNER_REFRESH_MS = 60_000;

/**
 * A banner's text: plain text and http(s) links, each a text node (never HTML), so a banner cannot
 * inject markup. Links open in a new tab, away from the chat.
 */
export function BannerText({ text }: { text: string }) {
  // Keyed by where each piece starts in what is shown (no two start at one place).
  let shown = 0;
  const pieces = bannerSegments(text).map((segment) => {
    const at = shown;
    shown += segment.text.length;
    return { segment, at };
  });
  return (
    <>
      {pieces.map(({ segment, at }) =>
        segment.kind === "link" ? (
          <a key={at} className="banner-link" href={segment.href} target="_blank" rel="noopener noreferrer">
            {segment.text}
          </a>
        ) : (
          <span key={at}>{segment.text}</span>
        ),
      )}
    </>
  );
}

/**
 * The administrators' announcements at the top of the page: read on sign-in, on each navigation
 * (`path`) and every minute while the tab is shown. Warnings and errors are alerts (read out at
 * once), information and success statuses (read out when the reader is idle). Closing one closes
 * it for this account on every device, until an administrator edits its text.
 */
export function AnnouncementBanners({ path }: { path: string }) {
  const { t } = useI18n();
  const [banners, setBanners] = useState<ActiveBanner[]>([]);
  const load = useCallback(() => {
    void api<{ banners: ActiveBanner[] }>("/api/banners").then(
      (answer) => setBanners(answer.banners),
      // Kept as they were: a refresh that failed (the service restarting) says nothing new.
      () => {},
    );
  }, []);
  // biome-ignore lint/correctness/useExhaustiveDependencies: read again on each navigation
  useEffect(load, [load, path]);
  useEffect(() => {
    const timer = setInterval(() => {
      if (document.visibilityState === "visible") load();
    }, BANNER_REFRESH_MS);
    const shown = () => {
      if (document.visibilityState === "visible") load();
    };
    document.addEventListener("visibilitychange", shown);
    return () => {
      clearInterval(timer);
      document.removeEventListener("visibilitychange", shown);
    };
  }, [load]);
  if (banners.length === 0) return null;
  const label = (banner: ActiveBanner) => t.bannerTypes[banner.type]!;
  const dismiss = async (banner: ActiveBanner) => {
    setBanners((shown) => shown.filter((b) => b.id !== banner.id));
    try {
      // The text shown is the one closed: one edited meanwhile shows at the next refresh.
      await api(`/api/banners/${banner.id}/dismiss`, { method: "POST", body: { revision: banner.revision } });
    } catch {
      // Not kept on the server (deleted meanwhile, or the service unreachable): the next refresh says.
      load();
    }
  };
  return (
    <section className="announcements" aria-label={t.announcements}>
      {banners.map((banner) => (
        <div
          key={banner.id}
          className="announcement"
          data-type={banner.type}
          role={banner.type === "error" || banner.type === "warning" ? "alert" : "status"}
        >
          <p>
            {/* The type in words too, not in colour alone. */}
            <strong className="announcement-type">{fill(t.bannerTypeLabel, { type: label(banner) })}</strong>
            {/* A full-width colon (错误：) holds its own space; another space after it is a gap. */}
            {t.bannerTypeLabel.endsWith("：") ? null : " "}
            <BannerText text={banner.text} />
          </p>
          {banner.dismissible && (
            <button
              type="button"
              className="announcement-close"
              aria-label={fill(t.dismissBanner, { text: banner.text })}
              title={t.close}
              onClick={() => void dismiss(banner)}
            >
              ×
            </button>
          )}
        </div>
      ))}
    </section>
  );
}
