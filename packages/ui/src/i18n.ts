import { createContext, useContext } from "react";

export type Locale = "en" | "zh-CN";

const en = {
  appName: "Hearth",
  model: "Model",
  noModels: "No model is installed yet",
  guidanceIntro: "Hearth needs a model to answer. Any one of these works:",
  guidanceDrop: "Drop a .gguf file into the models folder:",
  guidanceOllama:
    "Point OLLAMA_HOST at a running Ollama (for example OLLAMA_HOST=http://127.0.0.1:11434) and restart.",
  guidancePull:
    "When online, pull a model (an admin can do it from Models, or `ollama pull deepseek-r1:1.5b`).",
  modelServiceDown: "The model service is not reachable right now.",
  messagePlaceholder: "Send a message (Enter to send, Shift+Enter for a new line)",
  send: "Send",
  stop: "Stop",
  stopped: "Stopped",
  interrupted: "Interrupted",
  thinking: "Thinking",
  reasoning: "Reasoning",
  queuePosition: "Waiting, position {n} in the queue",
  cached: "Cached answer",
  newChat: "New chat",
  conversations: "Conversations",
  language: "Language",
  theme: "Theme",
  light: "Light",
  dark: "Dark",
  you: "You",
  assistant: "Assistant",
  error: "Error",
  copy: "Copy",
  signIn: "Sign in",
  signUp: "Create account",
  signOut: "Sign out",
  username: "User name",
  password: "Password",
  emptyChat: "Ask anything.",
};

export type Messages = typeof en;

const zhCN: Messages = {
  appName: "Hearth",
  model: "模型",
  noModels: "还没有安装模型",
  guidanceIntro: "Hearth 需要一个模型来回答，任选其一：",
  guidanceDrop: "把 .gguf 文件放进模型目录：",
  guidanceOllama: "把 OLLAMA_HOST 指向正在运行的 Ollama（例如 OLLAMA_HOST=http://127.0.0.1:11434）后重启。",
  guidancePull: "联网时拉取一个模型（管理员可在“模型”页操作，或运行 `ollama pull deepseek-r1:1.5b`）。",
  modelServiceDown: "暂时无法连接模型服务。",
  messagePlaceholder: "输入消息（Enter 发送，Shift+Enter 换行）",
  send: "发送",
  stop: "停止",
  stopped: "已停止",
  interrupted: "已中断",
  thinking: "思考中",
  reasoning: "推理过程",
  queuePosition: "排队中，第 {n} 位",
  cached: "缓存的回答",
  newChat: "新对话",
  conversations: "对话",
  language: "语言",
  theme: "主题",
  light: "浅色",
  dark: "深色",
  you: "你",
  assistant: "助手",
  error: "错误",
  copy: "复制",
  signIn: "登录",
  signUp: "注册",
  signOut: "退出登录",
  username: "用户名",
  password: "密码",
  emptyChat: "有什么可以帮你？",
};

export const MESSAGES: Record<Locale, Messages> = { en, "zh-CN": zhCN };

/** The browser's language unless the user chose one (kept in localStorage). */
export function initialLocale(): Locale {
  const saved = localStorage.getItem("hearth.locale");
  if (saved === "en" || saved === "zh-CN") return saved;
  return navigator.languages.some((language) => language.toLowerCase().startsWith("zh")) ? "zh-CN" : "en";
}

export const I18nContext = createContext<{ locale: Locale; t: Messages; setLocale(locale: Locale): void }>({
  locale: "en",
  t: en,
  setLocale() {},
});

export function useI18n() {
  return useContext(I18nContext);
}
