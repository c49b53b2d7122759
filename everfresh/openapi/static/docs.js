// Render /openapi.json with Swagger UI; a file rather than an inline script, for the CSP.
window.addEventListener("DOMContentLoaded", () => {
  window.ui = window.SwaggerUIBundle({
    url: document.body.dataset.specUrl,
    dom_id: "#swagger-ui",
    deepLinking: true,
    // Every request "Try it out" sends goes to this same origin, under its own CSP.
    tryItOutEnabled: false,
    persistAuthorization: false,
    // Swagger UI would otherwise ask a public validator on the internet about the document.
    validatorUrl: null,
    supportedSubmitMethods: ["get", "post", "patch", "delete"],
  });
});
