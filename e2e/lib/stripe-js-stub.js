// A stand-in for Stripe.js, served by the Stripe flow in place of https://js.stripe.com/…/stripe.js
// (which cannot be reached here). It implements what the web app uses through
// @stripe/react-stripe-js: Stripe(pk), elements({clientSecret}), create("payment") with mount,
// on/off, update and destroy, and confirmPayment({elements, redirect, confirmParams}). The
// Payment Element is a plain card number field instead of Stripe's iframe, and Stripe's test cards
// behave as in test mode: 4242 4242 4242 4242 succeeds, 4000 0000 0000 0002 is declined, and
// 4000 0025 0000 3155 asks for 3-D Secure in a dialog (Complete or Fail), as Stripe.js shows it
// within the page with redirect: "if_required". Nothing here talks to a server: the payment's
// outcome reaches the marketplace only through the webhook that the test delivers.
(() => {
  const record = { keys: [], clientSecrets: [], confirmations: [] };
  window.__stripeStub = record;

  const kDeclined = {
    type: "card_error",
    code: "card_declined",
    decline_code: "generic_decline",
    message: "Your card was declined.",
  };
  const kAuthenticationFailed = {
    type: "invalid_request_error",
    code: "payment_intent_authentication_failure",
    message:
      "We are unable to authenticate your payment method. Please choose a different payment method and try again.",
  };
  const kIncomplete = {
    type: "validation_error",
    code: "incomplete_number",
    message: "Your card number is incomplete.",
  };

  function paymentElement() {
    const listeners = {};
    let node = null;
    const emit = (event, payload) =>
      (listeners[event] || []).forEach((handler) => handler(payload));
    return {
      mount(target) {
        node =
          typeof target === "string" ? document.querySelector(target) : target;
        node.innerHTML =
          '<label style="display:block">Card number' +
          ' <input data-stripe-stub="number" inputmode="numeric" autocomplete="cc-number"' +
          ' style="display:block;width:100%;border:1px solid #cbd5e1;padding:8px"></label>';
        node.querySelector("input").addEventListener("input", (event) =>
          emit("change", {
            elementType: "payment",
            complete: event.target.value.replace(/\D/g, "").length === 16,
            empty: event.target.value === "",
            value: { type: "card" },
          }),
        );
        setTimeout(() => emit("ready", { elementType: "payment" }));
      },
      on(event, handler) {
        (listeners[event] = listeners[event] || []).push(handler);
        return this;
      },
      off(event, handler) {
        listeners[event] = (listeners[event] || []).filter(
          (h) => h !== handler,
        );
        return this;
      },
      update() {},
      destroy() {
        if (node) node.innerHTML = "";
        node = null;
      },
      cardNumber() {
        const input = node && node.querySelector("input");
        return input ? input.value.replace(/\D/g, "") : "";
      },
    };
  }

  // The bank's challenge, as Stripe's test page offers it: resolves true for Complete.
  function challenge() {
    return new Promise((resolve) => {
      const dialog = document.createElement("div");
      dialog.setAttribute("role", "dialog");
      dialog.setAttribute("aria-label", "3D Secure 2 Test Page");
      dialog.style.cssText =
        "position:fixed;inset:20% 25%;background:#fff;border:2px solid #334155;padding:24px;z-index:1000";
      dialog.innerHTML =
        "<p>3D Secure 2 Test Page: complete or fail the authentication.</p>" +
        '<button type="button" data-outcome="complete">Complete</button> ' +
        '<button type="button" data-outcome="fail">Fail</button>';
      dialog.addEventListener("click", (event) => {
        const outcome = event.target.getAttribute("data-outcome");
        if (!outcome) return;
        dialog.remove();
        resolve(outcome === "complete");
      });
      document.body.appendChild(dialog);
    });
  }

  function Stripe(publishableKey) {
    if (!/^pk_(test|live)_/.test(publishableKey))
      throw new Error("Invalid API Key provided: " + publishableKey);
    record.keys.push(publishableKey);
    return {
      _registerWrapper() {},
      registerAppInfo() {},
      createToken() {},
      createPaymentMethod() {},
      confirmCardPayment() {},
      elements(options) {
        const clientSecret = options && options.clientSecret;
        if (!clientSecret) throw new Error("elements() needs a clientSecret");
        record.clientSecrets.push(clientSecret);
        const created = {};
        return {
          _clientSecret: clientSecret,
          create(type) {
            if (type !== "payment")
              throw new Error("the stub has only the Payment Element");
            created[type] = paymentElement();
            return created[type];
          },
          getElement(type) {
            return created[type] || null;
          },
          update() {},
          submit() {
            return Promise.resolve({});
          },
        };
      },
      async confirmPayment({ elements, redirect, confirmParams }) {
        const element = elements.getElement("payment");
        const number = element ? element.cardNumber() : "";
        const clientSecret = elements._clientSecret;
        record.confirmations.push({
          clientSecret,
          redirect,
          returnUrl: confirmParams && confirmParams.return_url,
          number,
        });
        const intent = (status) => ({
          paymentIntent: {
            id: clientSecret.split("_secret_")[0],
            object: "payment_intent",
            client_secret: clientSecret,
            status,
          },
        });
        if (number.length !== 16) return { error: kIncomplete };
        if (number === "4000000000000002") return { error: kDeclined };
        if (number === "4000002500003155")
          return (await challenge())
            ? intent("succeeded")
            : { error: kAuthenticationFailed };
        return intent("succeeded");
      },
    };
  }
  // What @stripe/stripe-js expects of the script it loads (no version warning).
  Stripe.version = "endive";
  window.Stripe = Stripe;
})();
