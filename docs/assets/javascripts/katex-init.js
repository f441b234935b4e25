// Renders the maths that pymdownx.arithmatex (generic mode) wraps in \( \) and \[ \], with the
// KaTeX bundled under docs/assets/katex (no CDN). document$ is Material's page observable, so
// this also runs after instant navigation.
document$.subscribe(({ body }) => {
  renderMathInElement(body, {
    delimiters: [
      { left: "\\(", right: "\\)", display: false },
      { left: "\\[", right: "\\]", display: true },
    ],
  });
});
