import cluster from "node:cluster";
import { KnowledgeClient, ModelRegistryClient, SearchClient } from "@hearth/contracts";
import {
  createServiceApp,
  type HearthConfig,
  type Logger,
  listenService,
  OutageLog,
  webDatabaseFile,
} from "@hearth/core";
import type { FastifyInstance } from "fastify";
import { registerAccountRoutes } from "./accounts/account-routes.js";
import { LoginThrottle } from "./accounts/login-throttle.js";
import { registerPreferenceRoutes } from "./accounts/preference-routes.js";
import { registerAdminRoutes, registerSearchAdminRoute, registerStatusRoute } from "./admin/admin-routes.js";
import { alertMonitorFromConfig, alertsConfigured } from "./alerts/index.js";
import { registerAssistantRoutes } from "./assistants/assistant-routes.js";
import { AssistantStore } from "./assistants/assistant-store.js";
import { AuthCache } from "./auth/auth-cache.js";
import { registerOidcRoutes } from "./auth/oidc-routes.js";
import { type Access, registerAccessControl, requireAccessDeclarations } from "./auth/route-access.js";
import { registerBannerRoutes } from "./banners/banner-routes.js";
import { BannerStore } from "./banners/banner-store.js";
import { registerChatRoutes } from "./chat/chat-routes.js";
import { ContentFilter } from "./chat/content-filter.js";
import { RunningTurns } from "./chat/running-turns.js";
import { registerSearchStatusRoute, SearchAvailability } from "./chat/search-availability.js";
import { createPeerBus } from "./cluster/peer-bus.js";
import { serveWebCluster } from "./cluster/serve-web-cluster.js";
import {
  ConversationFiles,
  PURGE_INTERVAL_MS,
  registerConversationFileRoutes,
} from "./conversations/conversation-files.js";
import { registerConversationRoutes } from "./conversations/conversation-routes.js";
import { ANSWER_SILENCE_MS, ConversationStore } from "./conversations/conversation-store.js";
import { registerFolderRoutes } from "./conversations/folder-routes.js";
import { FolderStore } from "./conversations/folder-store.js";
import { registerShareRoutes } from "./conversations/share-routes.js";
import { ShareStore } from "./conversations/share-store.js";
import { registerFeedbackRoutes } from "./feedback/feedback-routes.js";
import { KnowledgeAccess } from "./knowledge/knowledge-access.js";
import { registerKnowledgeRoutes } from "./knowledge/knowledge-routes.js";
import { ServiceProxy } from "./knowledge/service-proxy.js";
import { registerMemoryRoutes } from "./memories/memory-routes.js";
import { MemoryStore } from "./memories/memory-store.js";
import { ModelClient } from "./model/model-client.js";
import { ModelAccess } from "./models/model-access.js";
import { registerPromptRoutes } from "./prompts/prompt-routes.js";
import { PromptStore } from "./prompts/prompt-store.js";
import { registerExternalKnowledgeApi } from "./public-api/external-knowledge-api.js";
import { formatWebError } from "./public-api/format-error.js";
import { registerPublicApi } from "./public-api/public-api-routes.js";
import { SettingsStore } from "./settings/settings-store.js";
import { type OpenDatabaseOptions, openDatabase, type WebDatabase } from "./storage/open-database.js";
import { registerNulCharacterCheck } from "./text/nul-characters.js";
import { registerUi } from "./ui/serve-ui.js";
import { UsageMeter } from "./usage/usage-meter.js";

export {
  createAccount,
  createAdminAccount,
  listAccounts,
  resetAccountPassword,
} from "./accounts/account-admin.js";
export { OidcProvider, oidcSettings } from "./auth/oidc-provider.js";
export { assignKnowledgeBaseOwner, findKnowledgeBaseOwner } from "./knowledge/knowledge-owner.js";
export { ADMIN_SETTING_KEYS, readStoredOverrides } from "./settings/stored-overrides.js";
export { inspectWebSchema, openDatabase } from "./storage/open-database.js";

export interface WebServiceOptions {
  database?: OpenDatabaseOptions;
}

/**
 * With `web.trustProxy`, the peer is the reverse proxy (deploy/nginx) and only it is believed: the
 * client's address is the one it appended to X-Forwarded-For, never an entry the client sent itself
 * (which would let anyone dodge, or turn on others, the sign-in throttle's per-address count).
 */
function nearestProxyOnly(_address: string, hop: number): boolean {
  return hop === 0;
}

/** Builds the web service (UI, browser API, public API) without listening. */
export async function createWebService(
  config: HearthConfig,
  logger: Logger,
  options: WebServiceOptions = {},
): Promise<{
  app: FastifyInstance;
  close(): Promise<void>;
  /** Every /api/ and /v1/ route with its declared access (the RBAC test walks it). */
  routes: ReadonlyArray<{ method: string; url: string; access: Access; apiKey?: boolean }>;
  db: WebDatabase;
}> {
  const db = await openDatabase(config, { logger, ...options.database });
  const { app, shutdownSignal, metrics } = createServiceApp({
    service: "web",
    logger,
    bodyLimitBytes: config.web.bodyLimitBytes,
    requestTimeoutSeconds: config.web.requestTimeoutSeconds,
    ...(config.web.trustProxy ? { trustProxy: nearestProxyOnly } : {}),
    formatError: formatWebError,
    // Its own routes have their own sign-in and API keys; /metrics needs the service token when
    // one is set, as on the other services (Prometheus and the alert monitor send it).
    ...(config.services.token
      ? { serviceToken: config.services.token, serviceTokenPrefixes: ["/metrics"] }
      : {}),
    readiness: async () => {
      try {
        await db.selectFrom("settings").select("key").limit(1).execute();
        return { ready: true };
      } catch {
        return { ready: false, reason: "the database is not reachable" };
      }
    },
  });
  const routes: Array<{ method: string; url: string; access: Access; apiKey?: boolean }> = [];
  requireAccessDeclarations(app, routes);
  // The other processes of the service (cluster workers, replicas on other hosts) hear of what
  // changes here: access and settings (the caches), a deleted or stopped conversation (its answer).
  const peers = createPeerBus(db, {
    databaseUrl: config.web.databaseUrl,
    postgresSchema: options.database?.postgresSchema,
    logger,
  });
  const authCache = new AuthCache(peers);
  registerAccessControl(app, db, config, authCache);
  registerNulCharacterCheck(app);

  const token = config.services.token;
  const models = new ModelClient(config.services.modelUrl, token);
  const modelRegistry = new ModelRegistryClient({ baseUrl: config.services.modelUrl, token });
  const knowledge = new KnowledgeClient({ baseUrl: config.services.knowledgeUrl, token });
  const search = new SearchClient({ baseUrl: config.services.searchUrl, token });
  const searchAvailability = new SearchAvailability(search);
  const knowledgeProxy = new ServiceProxy(config.services.knowledgeUrl, token, "knowledge");
  const settings = new SettingsStore(db, config);
  authCache.onClear(() => settings.invalidate());
  let contentFilter: ContentFilter;
  try {
    contentFilter = new ContentFilter(config, settings, logger, metrics);
  } catch (error) {
    await peers.close();
    await db.destroy();
    throw error;
  }
  const conversations = new ConversationStore(db);
  // The answers a stopped service left "streaming" are interrupted (a cluster's primary does it
  // before its workers start: a worker that restarts must not end its peers' answers). On
  // PostgreSQL other replicas may be writing answers: only those whose writer went quiet, now and
  // every ANSWER_SILENCE_MS (a replica that died leaves its answers to the others).
  const replicas = webDatabaseFile(config) === undefined;
  if (!cluster.isWorker) await conversations.interruptUnfinished({ abandonedOnly: replicas });
  // Logged once per outage: the pool has said the database is gone.
  const sweepOutage = new OutageLog(logger, "could not interrupt abandoned answers");
  const sweep = replicas
    ? setInterval(
        () =>
          void conversations
            .interruptUnfinished({ abandonedOnly: true })
            .then(sweepOutage.recovered, sweepOutage.lost),
        ANSWER_SILENCE_MS,
      ).unref()
    : undefined;
  const modelAccess = new ModelAccess(
    db,
    authCache,
    config.model.upstreams.map((upstream) => upstream.name),
  );
  const usage = new UsageMeter(db, settings, (model) => modelAccess.key(model), logger);
  const knowledgeAccess = new KnowledgeAccess(db);
  const assistants = new AssistantStore(db, knowledgeAccess);

  const { ssoSignOutUrl } = registerOidcRoutes(app, { db, config, settings, authCache });
  registerAccountRoutes(app, {
    db,
    config,
    settings,
    throttle: new LoginThrottle(),
    ssoSignOutUrl,
    contentFilter,
  });
  registerChatRoutes(app, {
    config,
    models,
    modelRegistry,
    modelAccess,
    usage,
    contentFilter,
    shutdownSignal,
  });
  const turnDeps = {
    models,
    knowledge,
    search,
    conversations,
    usage,
    settings,
    contentFilter,
    shutdownSignal,
    turns: new RunningTurns(peers),
    searchAvailability,
    logger,
  };
  registerSearchStatusRoute(app, { availability: searchAvailability });
  registerPreferenceRoutes(app, { db, config, contentFilter, modelAccess, models, searchAvailability });
  const shares = new ShareStore(db);
  const files = new ConversationFiles(db, knowledgeProxy, knowledge, logger);
  const purgeFiles = () => files.purge();
  const temporaryOutage = new OutageLog(logger, "could not delete expired temporary chats");
  /** The temporary chats left open (a tab closed) past web.temporaryChatHours after their last activity. */
  const expireTemporaryChats = () =>
    conversations
      .deleteTemporaryBefore(new Date(Date.now() - config.web.temporaryChatHours * 3_600_000).toISOString())
      .then(temporaryOutage.recovered, temporaryOutage.lost);
  // Every minute, in every process: expired temporary chats; then the files of deleted chats (those
  // the knowledge service could not delete at once, it was down, again).
  const filePurge = setInterval(
    () => void expireTemporaryChats().then(purgeFiles),
    PURGE_INTERVAL_MS,
  ).unref();
  const memories = new MemoryStore(db);
  registerConversationRoutes(app, {
    ...turnDeps,
    config,
    modelAccess,
    knowledgeAccess,
    assistants,
    shares,
    files,
    memories,
  });
  registerConversationFileRoutes(app, { conversations, files });
  registerShareRoutes(app, { conversations, shares, settings });
  registerFolderRoutes(app, {
    folders: new FolderStore(db),
    turns: turnDeps.turns,
    purgeFiles,
    contentFilter,
  });
  registerFeedbackRoutes(app, { conversations, contentFilter });
  registerPromptRoutes(app, { prompts: new PromptStore(db), config, contentFilter });
  registerMemoryRoutes(app, { memories, contentFilter });
  registerBannerRoutes(app, { banners: new BannerStore(db), contentFilter });
  registerAssistantRoutes(app, { assistants, config, contentFilter, modelAccess });
  registerKnowledgeRoutes(app, {
    db,
    knowledge: knowledgeProxy,
    knowledgeAccess,
    modelAccess,
    contentFilter,
  });
  registerPublicApi(app, { ...turnDeps, config, modelAccess, knowledgeAccess, assistants });
  registerExternalKnowledgeApi(app, { knowledge, knowledgeAccess });
  registerAdminRoutes(app, {
    db,
    config,
    settings,
    contentFilter,
    models,
    modelRegistry,
    modelAccess,
    usage,
    knowledge,
    knowledgeBaseName: async (id) => (await knowledge.getKnowledgeBase(id)).name,
    purgeFiles,
  });
  registerStatusRoute(app, { db, config, usage });
  registerSearchAdminRoute(app, { search });
  await registerUi(app);
  await app.ready();
  return {
    app,
    routes,
    db,
    async close() {
      clearInterval(sweep);
      clearInterval(filePurge);
      await app.close();
      contentFilter.close();
      await peers.close();
      await usage.close();
      await db.destroy();
    },
  };
}

/**
 * Starts the web service on web.host:web.port (HEARTH_HOST, HEARTH_PORT); with web.workers > 1
 * (HEARTH_WEB_WORKERS) as a node:cluster of that many processes sharing the port.
 */
export async function serveWeb(
  config: HearthConfig,
  logger: Logger,
): Promise<{ url: string; close(): Promise<void> }> {
  const served =
    config.web.workers > 1 ? await serveWebCluster(config, logger) : await serveWebProcess(config, logger);
  // The built-in alert monitor lets a single-machine install alert without Prometheus (issue 7).
  // Replicas on one PostgreSQL database each run one, and claim each alert's changes in the
  // database, so that one of them notifies each (on SQLite this process is the only one).
  let database: WebDatabase | undefined;
  try {
    if (alertsConfigured(config) && webDatabaseFile(config) === undefined)
      database = await openDatabase(config, { logger });
  } catch (error) {
    await served.close();
    throw error;
  }
  const alerts = alertMonitorFromConfig(config, logger, database ? { database } : {});
  alerts?.start();
  return {
    url: served.url,
    close: async () => {
      await alerts?.stop();
      await database?.destroy();
      await served.close();
    },
  };
}

async function serveWebProcess(
  config: HearthConfig,
  logger: Logger,
): Promise<{ url: string; close(): Promise<void> }> {
  const service = await createWebService(config, logger);
  const url = await listenService(service.app, {
    host: config.web.host,
    port: config.web.port,
    description: "web service (HEARTH_PORT)",
    hostSetting: "HEARTH_HOST",
  });
  return { url, close: service.close };
}
