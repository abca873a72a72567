import { RETRIEVAL_TEST_TOP_K } from "@hearth/contracts/retrieval-test";
import { type FormEvent, type MouseEvent, useEffect, useRef, useState } from "react";
import { api, type Citation } from "./api.js";
import { citationLabels } from "./display-text.js";
import { fill, useI18n } from "./i18n.js";
import { MinRelevanceField } from "./knowledge-base-settings.js";
import { MarkedText } from "./marked-text.js";
import { queryMatches } from "./query-highlight.js";
import { forgetQuestions, recentQuestions, rememberQuestion } from "./retrieval-history.js";
import { SourceView } from "./source-view.js";
import { ActionError } from "./use-action.js";

type Mode = "hybrid" | "lexical" | "vector";
const MODES: Mode[] = ["hybrid", "lexical", "vector"];

/** A passage as POST /api/knowledge-bases/{id}/query answers it (contracts: queryResultSchema). */
interface Passage {
  chunkId: string;
  knowledgeBaseId: string;
  documentId: string;
  documentTitle: string;
  text: string;
  /** Ranks the passage on its search path's own scale. */
  score: number;
  /** The score as 0 to 1, comparable across questions: what a minimum relevance is held against. */
  relevance: number;
  page?: number | null;
  headingPath: string[];
}

/**
 * A retrieval test's answer, with the question it answers (for its marks)
 * and the minimum relevance it was held to.
 */
interface Answer {
  query: string;
  minRelevance: number;
  results: Passage[];
  /**
   * Something that limited the answer: the base searched on full text only, its rerank model
   * failing (contracts: queryWarningSchema).
   */
  warnings?: Array<{ code: string; message: string }>;
  /** The rerank model that ordered the passages, when one did (contracts: queryResponseSchema). */
  reranked?: Array<{ model: string }>;
}

/** A passage as a citation is: its document's file (at its page), which the source view opens at the passage. */
function citationOf(passage: Passage, rank: number): Citation {
  const file = `/api/knowledge-bases/${encodeURIComponent(passage.knowledgeBaseId)}/documents/${encodeURIComponent(passage.documentId)}/file`;
  return {
    n: rank,
    kind: "document",
    title: passage.documentTitle,
    url: passage.page ? `${file}#page=${passage.page}` : file,
    snippet: passage.text,
  };
}

/**
 * A knowledge base's retrieval test: a question, how to search (hybrid, full text, vectors), how
 * many passages and how relevant at least (the base's minimum relevance unless changed here, to try
 * one before saving it), and the passages the base gives a chat for it, best first, each with its
 * relevance (its score in the badge's title), its document, page and headings, and the question's
 * words marked; a passage opens in its document as a citation does. A base with a rerank model
 * reranks the passages unless "Rerank" is cleared (to compare), and the answer says which model
 * reranked them. What limited the answer (full text only, a rerank that failed) is said. A new
 * test replaces one under way.
 */
export function RetrievalTest(props: {
  knowledgeBaseId: string;
  /** The base's minimum relevance as saved, which the test starts from. */
  minRelevance: number;
  /** The base's rerank model as saved; none: no "Rerank" choice. */
  rerankModel: string | null;
  /**
   * The base's embedding model as saved; none: it is searched by words only, so the test starts on
   * full text and offers vectors and hybrid disabled, saying why.
   */
  embeddingModel: string | null;
}) {
  const { knowledgeBaseId } = props;
  const { t } = useI18n();
  const [query, setQuery] = useState("");
  const wordsOnly = !props.embeddingModel;
  const [mode, setMode] = useState<Mode>(wordsOnly ? "lexical" : "hybrid");
  // A base whose embedding model is taken away (its settings saved) is tested on full text from then on.
  if (wordsOnly && mode !== "lexical") setMode("lexical");
  // As typed: the form holds a run back until it is a whole number in range.
  const [topK, setTopK] = useState(String(RETRIEVAL_TEST_TOP_K.default));
  const [minRelevance, setMinRelevance] = useState(String(props.minRelevance));
  const [rerank, setRerank] = useState(true);
  // A minimum relevance saved in the settings is the test's from then on.
  useEffect(() => setMinRelevance(String(props.minRelevance)), [props.minRelevance]);
  const [answer, setAnswer] = useState<Answer>();
  const [error, setError] = useState<unknown>();
  const [running, setRunning] = useState(false);
  const [source, setSource] = useState<Citation>();
  const inFlight = useRef<AbortController>(undefined);
  useEffect(() => () => inFlight.current?.abort(), []);

  // The questions last asked here, in this browser, to ask again with a click.
  const [recent, setRecent] = useState(() => recentQuestions(knowledgeBaseId));

  const run = (event: FormEvent) => {
    event.preventDefault();
    void ask(query);
  };

  const ask = async (question: string) => {
    inFlight.current?.abort();
    const controller = new AbortController();
    inFlight.current = controller;
    setRunning(true);
    setAnswer(undefined);
    setError(undefined);
    try {
      const threshold = Number(minRelevance);
      const answered = await api<Omit<Answer, "query" | "minRelevance">>(
        `/api/knowledge-bases/${encodeURIComponent(knowledgeBaseId)}/query`,
        {
          method: "POST",
          body: {
            query: question,
            topK: Number(topK),
            mode,
            minRelevance: threshold,
            ...(props.rerankModel ? { rerank } : {}),
          },
          signal: controller.signal,
        },
      );
      if (inFlight.current === controller) {
        setAnswer({ ...answered, query: question, minRelevance: threshold });
        setRecent(rememberQuestion(knowledgeBaseId, question));
      }
    } catch (caught) {
      if (inFlight.current === controller) setError(caught);
    } finally {
      if (inFlight.current === controller) setRunning(false);
    }
  };

  /** A plain click shows the passage in its document here; one asking for a new tab opens the file. */
  const open = (citation: Citation, event: MouseEvent) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    setSource(citation);
  };

  const format = new Intl.NumberFormat(t.dateLocale, { maximumSignificantDigits: 3 });
  const twoDecimals = new Intl.NumberFormat(t.dateLocale, {
    minimumFractionDigits: 2,
    maximumFractionDigits: 2,
  });
  return (
    <section className="retrieval-test" aria-labelledby="retrieval-test-title">
      <h4 id="retrieval-test-title">{t.retrievalTest}</h4>
      <p className="muted">{t.retrievalTestHint}</p>
      <form className="inline-form" onSubmit={run}>
        <label className="retrieval-query">
          {t.retrievalQuestion}
          <input value={query} onChange={(e) => setQuery(e.target.value)} required />
        </label>
        <label>
          {t.retrievalMode}
          <select
            value={mode}
            onChange={(e) => setMode(e.target.value as Mode)}
            aria-describedby={wordsOnly ? "retrieval-mode-why" : undefined}
          >
            {MODES.map((value) => (
              <option key={value} value={value} disabled={wordsOnly && value !== "lexical"}>
                {t.retrievalModes[value]}
              </option>
            ))}
          </select>
        </label>
        {wordsOnly && (
          <p id="retrieval-mode-why" className="muted retrieval-mode-why">
            {t.retrievalModeNeedsEmbedding}
          </p>
        )}
        <label>
          {t.retrievalTopK}
          <input
            type="number"
            min={1}
            max={RETRIEVAL_TEST_TOP_K.max}
            value={topK}
            onChange={(e) => setTopK(e.target.value)}
            required
          />
        </label>
        <MinRelevanceField value={minRelevance} onChange={setMinRelevance} />
        {props.rerankModel && (
          <label className="checkbox" title={props.rerankModel}>
            <input type="checkbox" checked={rerank} onChange={(e) => setRerank(e.target.checked)} />
            {t.retrievalRerank}
          </label>
        )}
        <button type="submit">{t.retrievalRun}</button>
      </form>
      {recent.length > 0 && (
        <div className="retrieval-recent">
          <span className="muted">{t.retrievalRecent}</span>
          {recent.map((question) => (
            <button
              key={question}
              type="button"
              className="small retrieval-recent-question"
              onClick={() => {
                setQuery(question);
                void ask(question);
              }}
            >
              {question}
            </button>
          ))}
          <button
            type="button"
            className="small"
            onClick={() => {
              forgetQuestions(knowledgeBaseId);
              setRecent([]);
            }}
          >
            {t.retrievalRecentClear}
          </button>
        </div>
      )}
      {running && <p role="status">{t.retrievalRunning}</p>}
      <ActionError error={error} />
      {answer?.reranked && answer.reranked.length > 0 && (
        <p className="muted" role="status">
          {fill(t.retrievalReranked, { model: answer.reranked.map((entry) => entry.model).join(", ") })}
        </p>
      )}
      {answer?.warnings?.map((warning) => (
        <p key={warning.code} className="grounding-warning" role="status">
          {t.retrievalWarnings[warning.code] ?? warning.message}
        </p>
      ))}
      {answer && answer.results.length === 0 && (
        <p role="status">
          {answer.minRelevance > 0
            ? fill(t.retrievalNoResultsAbove, { min: twoDecimals.format(answer.minRelevance) })
            : t.retrievalNoResults}
        </p>
      )}
      {answer && answer.results.length > 0 && (
        <ol className="retrieval-results" aria-label={t.retrievalResults}>
          {answer.results.map((passage, index) => {
            const citation = citationOf(passage, index + 1);
            const [{ label }] = citationLabels(t, [citation]);
            return (
              <li key={passage.chunkId}>
                <div className="retrieval-result-head">
                  <a
                    className="retrieval-source"
                    href={citation.url}
                    target="_blank"
                    rel="noopener noreferrer"
                    onClick={(event) => open(citation, event)}
                  >
                    {label}
                  </a>
                  {passage.headingPath.length > 0 && (
                    <span className="muted"> · {passage.headingPath.join(" › ")}</span>
                  )}
                  <span
                    className="badge"
                    title={fill(t.retrievalScore, { score: format.format(passage.score) })}
                  >
                    {fill(t.retrievalRelevance, { relevance: twoDecimals.format(passage.relevance) })}
                  </span>
                </div>
                <p className="retrieval-text">
                  <MarkedText text={passage.text} ranges={queryMatches(passage.text, answer.query)} />
                </p>
              </li>
            );
          })}
        </ol>
      )}
      {source && <SourceView citation={source} onClose={() => setSource(undefined)} />}
    </section>
  );
}
