// /docs: Swagger UI (vendored, offline) over the API's OpenAPI 3.1 document. A file, not an inline script,
// so the Content-Security-Policy can forbid inline scripts.
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  window.SwaggerUIBundle({
    url: root.getAttribute("data-openapi"),
    domNode: root,
    deepLinking: true,
    docExpansion: "list",
    defaultModelsExpandDepth: 0,
    tryItOutEnabled: false,
    validatorUrl: null  // never call the public validator: the docs work on an intranet
  });
}());
