/* The demo page: starts the rasa-webchat widget against the gateway's /socket.io/. */
(function () {
  "use strict";

  var holder = document.getElementById("quitt-chat");
  var config = holder.dataset;
  var typingNode = null;

  function missing() {
    document.getElementById("chat-missing").hidden = false;
    document.getElementById("start-chat").disabled = true;
  }

  // rasa-webchat shows typing dots only while it delays a message it already has;
  // the gateway's `bot_typing` event covers the time the bot is still thinking.
  function showTyping(on) {
    var messages = document.querySelector(".rw-messages-container");
    if (!on || !messages) {
      if (typingNode && typingNode.parentNode) typingNode.parentNode.removeChild(typingNode);
      typingNode = null;
      return;
    }
    if (typingNode && typingNode.parentNode === messages) return;
    typingNode = document.createElement("div");
    typingNode.className = "rw-message rw-typing-indication quitt-typing";
    typingNode.setAttribute("role", "status");
    typingNode.setAttribute("aria-label", config.typing);
    typingNode.innerHTML =
      '<div class="rw-response"><div id="wave"><span class="rw-dot"></span>' +
      '<span class="rw-dot"></span><span class="rw-dot"></span></div></div>';
    messages.appendChild(typingNode);
    messages.scrollTop = messages.scrollHeight;
  }

  // The widget renders its launcher a moment after the page loads; a click that comes
  // earlier waits for it (up to 10 s) instead of being lost.
  function openChat() {
    var tries = 0;
    (function attempt() {
      if (document.querySelector(".rw-conversation-container")) return;
      var launcher = document.querySelector(".rw-launcher");
      if (launcher) {
        launcher.click();
        return;
      }
      tries += 1;
      if (tries < 200) window.setTimeout(attempt, 50);
    })();
  }

  document.getElementById("start-chat").addEventListener("click", openChat);

  if (!window.WebChat || typeof window.WebChat.default !== "function") {
    missing();
    return;
  }

  window.WebChat.default(
    {
      socketUrl: window.location.origin,
      socketPath: "/socket.io/",
      customData: { language: config.lang },
      initPayload: "/greet",
      title: config.title,
      subtitle: config.subtitle,
      inputTextFieldHint: config.hint,
      // The conversation lives in sessionStorage: it survives a reload, and closing the
      // tab forgets it (a shared computer keeps no debt conversation around).
      params: { storage: "session" },
      withRules: false,
      mainColor: "#0a5c8a",
      userBackgroundColor: "#0a5c8a",
      userTextColor: "#ffffff",
      customMessageDelay: function (text) {
        return Math.min(900, 250 + (text || "").length * 4);
      },
      onSocketEvent: {
        bot_typing: function (data) { showTyping(Boolean(data && data.typing)); },
        bot_uttered: function () { showTyping(false); },
      },
    },
    holder
  );
})();
