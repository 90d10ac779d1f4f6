/* "Try the model": a project's model, exported to ONNX when it was trained, runs in the
   visitor's browser with ONNX Runtime Web. Nothing is fetched until the first pick: then
   the runtime (assets/ort/), the model and the examples' inputs come from this site, never
   from another host. Each answer is shown beside the true one and beside the prediction
   Keras recorded when the site was built, so the visitor sees that they agree. */
(function () {
  "use strict";

  var runtime = null; // the promise of the `ort` namespace, shared by every demo on the page

  function loadRuntime(folder) {
    if (runtime) return runtime;
    runtime = new Promise(function (resolve, reject) {
      if (typeof WebAssembly !== "object") {
        reject(new Error("This browser cannot run WebAssembly, so the model cannot run here."));
        return;
      }
      var base = new URL(folder, document.baseURI).href;
      var script = document.createElement("script");
      script.src = base + "ort.wasm.min.js";
      script.onload = function () {
        var ort = window.ort;
        ort.env.wasm.wasmPaths = base;
        // One thread: GitHub Pages sends no cross-origin isolation headers, and threads
        // would need them (SharedArrayBuffer).
        ort.env.wasm.numThreads = 1;
        resolve(ort);
      };
      script.onerror = function () {
        runtime = null;
        reject(new Error("The model's runtime could not be loaded; try again."));
      };
      document.head.appendChild(script);
    });
    return runtime;
  }

  function fetched(url, as) {
    return fetch(url).then(function (response) {
      if (!response.ok) throw new Error("Could not load " + url + " (" + response.status + ").");
      return as === "json" ? response.json() : response.arrayBuffer();
    });
  }

  function percent(p) {
    return (100 * p).toFixed(1) + "%";
  }

  function number(v) {
    return Math.abs(v) >= 1000 || Math.abs(v) < 0.01 ? v.toPrecision(4) : v.toFixed(2);
  }

  function probabilities(raw, reading) {
    if (reading === "sigmoid" || reading === "logit") {
      var p = reading === "logit" ? 1 / (1 + Math.exp(-raw[0])) : raw[0];
      return [1 - p, p];
    }
    if (reading === "logits") {
      var top = Math.max.apply(null, raw);
      var e = raw.map(function (v) { return Math.exp(v - top); });
      var sum = e.reduce(function (a, b) { return a + b; }, 0);
      return e.map(function (v) { return v / sum; });
    }
    return raw.slice();
  }

  function best(probs) {
    var index = 0;
    for (var i = 1; i < probs.length; i++) if (probs[i] > probs[index]) index = i;
    return index;
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function setup(root) {
    root.setAttribute("data-ready", "");
    var result = root.querySelector(".pf-demo-result");
    var loading = null;

    function ready() {
      if (!loading) {
        loading = loadRuntime(root.getAttribute("data-runtime")).then(function (ort) {
          return Promise.all([
            fetched(root.getAttribute("data-examples"), "json"),
            fetched(root.getAttribute("data-model")).then(function (bytes) {
              return ort.InferenceSession.create(new Uint8Array(bytes));
            })
          ]).then(function (parts) {
            return { ort: ort, data: parts[0], session: parts[1] };
          });
        });
        loading.catch(function () { loading = null; });
      }
      return loading;
    }

    function run(demo, values) {
      var feeds = {};
      feeds[demo.data.input.name] = new demo.ort.Tensor(
        "float32", Float32Array.from(values), demo.data.input.shape);
      return demo.session.run(feeds).then(function (outputs) {
        return Array.from(outputs[demo.session.outputNames[0]].data);
      });
    }

    function say(text, busy) {
      result.textContent = "";
      ["data-browser", "data-keras", "data-truth", "data-difference"].forEach(function (name) {
        result.removeAttribute(name);
      });
      result.appendChild(element("p", "pf-demo-status", text));
      root.setAttribute("aria-busy", busy ? "true" : "false");
    }

    function showClasses(demo, raw, example) {
      var classes = demo.data.classes;
      var probs = probabilities(raw, demo.data.output);
      var said = best(probs);
      result.textContent = "";
      var verdict = element("p", "pf-demo-verdict");
      verdict.appendChild(document.createTextNode("In your browser, the model says "));
      verdict.appendChild(element("strong", "", classes[said]));
      verdict.appendChild(document.createTextNode(" (" + percent(probs[said]) + ")."));
      if (example) {
        var recorded = probabilities(example.keras, demo.data.output);
        var then = best(recorded);
        verdict.appendChild(document.createTextNode(" True answer: "));
        verdict.appendChild(element("strong", "", classes[example.truth]));
        verdict.appendChild(document.createTextNode(". Keras, when the site was built: " +
          classes[then] + " (" + percent(recorded[then]) + ")" +
          (then === said ? ", the same answer." : ", a different answer.")));
        result.setAttribute("data-keras", classes[then]);
        result.setAttribute("data-truth", classes[example.truth]);
        result.setAttribute("data-difference", String(largestDifference(raw, example.keras)));
      } else {
        ["data-keras", "data-truth", "data-difference"].forEach(function (name) {
          result.removeAttribute(name);
        });
      }
      result.setAttribute("data-browser", classes[said]);
      result.appendChild(verdict);
      var order = probs.map(function (p, i) { return i; })
        .sort(function (a, b) { return probs[b] - probs[a]; }).slice(0, 3);
      var list = element("ol", "pf-demo-bars");
      list.setAttribute("aria-label", "Most likely classes");
      order.forEach(function (i) {
        var item = element("li");
        item.appendChild(element("span", "pf-demo-label", classes[i]));
        var bar = element("span", "pf-demo-bar");
        var fill = element("span");
        fill.style.width = (100 * probs[i]).toFixed(1) + "%";
        bar.appendChild(fill);
        item.appendChild(bar);
        item.appendChild(element("span", "pf-demo-value", percent(probs[i])));
        list.appendChild(item);
      });
      result.appendChild(list);
    }

    function showValue(demo, raw, example) {
      // a·output + b: the units the true values are in, when the script rescaled them.
      var scale = demo.data.rescale || [1, 0];
      function units(v) { return scale[0] * v + scale[1]; }
      result.textContent = "";
      var verdict = element("p", "pf-demo-verdict");
      verdict.appendChild(document.createTextNode("In your browser, the model predicts "));
      verdict.appendChild(element("strong", "", number(units(raw[0]))));
      verdict.appendChild(document.createTextNode(". True value: "));
      verdict.appendChild(element("strong", "", number(example.truth)));
      verdict.appendChild(document.createTextNode(". Keras, when the site was built: " +
        number(units(example.keras[0])) + "."));
      result.setAttribute("data-browser", String(raw[0]));
      result.setAttribute("data-keras", String(example.keras[0]));
      result.setAttribute("data-truth", String(example.truth));
      result.setAttribute("data-difference", String(largestDifference(raw, example.keras)));
      result.appendChild(verdict);
      if (demo.data.kind === "sequence") {  // drawn in the model's units, as its window is
        result.appendChild(chart(example.input, raw[0], (example.truth - scale[1]) / scale[0]));
      }
    }

    function runExample(index) {
      say("Loading the model and ONNX Runtime Web…", true);
      ready().then(function (demo) {
        var example = demo.data.examples[index];
        return run(demo, example.input).then(function (raw) {
          if (demo.data.kind === "classification") showClasses(demo, raw, example);
          else showValue(demo, raw, example);
          root.setAttribute("aria-busy", "false");
        });
      }).catch(function (error) { say(error.message, false); });
    }

    function pick(button) {
      root.querySelectorAll(".pf-demo-pick[aria-pressed='true']").forEach(function (other) {
        other.setAttribute("aria-pressed", "false");
      });
      button.setAttribute("aria-pressed", "true");
      runExample(Number(button.getAttribute("data-index")));
    }
    root.querySelectorAll(".pf-demo-pick").forEach(function (button) {
      button.addEventListener("click", function () { pick(button); });
    });
    var pending = root.getAttribute("data-pending");  // picked before this script came
    if (pending !== null) {
      root.removeAttribute("data-pending");
      var button = root.querySelector(".pf-demo-pick[data-index='" + pending + "']");
      if (button) pick(button);
    }

    var canvas = root.querySelector(".pf-demo-pad canvas");
    if (canvas) pad(canvas, function (values) {
      say("Loading the model and ONNX Runtime Web…", true);
      ready().then(function (demo) {
        return run(demo, values).then(function (raw) {
          showClasses(demo, raw, null);
          root.setAttribute("aria-busy", "false");
        });
      }).catch(function (error) { say(error.message, false); });
    });
  }

  function largestDifference(a, b) {
    var most = 0;
    for (var i = 0; i < a.length; i++) most = Math.max(most, Math.abs(a[i] - b[i]));
    return most;
  }

  /* The window, then the predicted and the true next value, as a small SVG chart. */
  function chart(window_, predicted, truth) {
    var svgNS = "http://www.w3.org/2000/svg";
    var values = window_.concat([predicted, truth]);
    var low = Math.min.apply(null, values), high = Math.max.apply(null, values);
    var span = high - low || 1, width = 320, height = 120, pad = 8;
    var step = (width - 2 * pad) / window_.length;
    function x(i) { return pad + i * step; }
    function y(v) { return height - pad - (v - low) / span * (height - 2 * pad); }
    var svg = document.createElementNS(svgNS, "svg");
    svg.setAttribute("viewBox", "0 0 " + width + " " + height);
    svg.setAttribute("class", "pf-demo-chart");
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", "The input window of " + window_.length +
      " values, then the predicted next value " + number(predicted) + " and the true one " +
      number(truth));
    var line = document.createElementNS(svgNS, "polyline");
    line.setAttribute("points", window_.map(function (v, i) { return x(i) + "," + y(v); }).join(" "));
    svg.appendChild(line);
    [[predicted, "pf-demo-predicted"], [truth, "pf-demo-true"]].forEach(function (point) {
      var dot = document.createElementNS(svgNS, "circle");
      dot.setAttribute("cx", x(window_.length));
      dot.setAttribute("cy", y(point[0]));
      dot.setAttribute("r", 5);
      dot.setAttribute("class", point[1]);
      svg.appendChild(dot);
    });
    var figure = element("figure", "pf-demo-figure");
    figure.appendChild(svg);
    figure.appendChild(element("figcaption", "", "The window the model read, then its forecast " +
      "(filled dot) and the true next value (ring)."));
    return figure;
  }

  /* A drawing pad: strokes in the ink colour, read back as each cell's coverage, scaled to
     the value range of the training inputs (background at the lowest, ink at the highest). */
  function pad(canvas, classify) {
    var context = canvas.getContext("2d");
    var rows = Number(canvas.getAttribute("data-rows"));
    var columns = Number(canvas.getAttribute("data-columns"));
    var low = Number(canvas.getAttribute("data-low"));
    var high = Number(canvas.getAttribute("data-high"));
    var drawing = false, last = null;
    context.lineCap = "round";
    context.lineJoin = "round";
    context.lineWidth = canvas.width / Math.max(rows, columns) * 1.3;

    function at(event) {
      var box = canvas.getBoundingClientRect();
      return [(event.clientX - box.left) * canvas.width / box.width,
              (event.clientY - box.top) * canvas.height / box.height];
    }
    canvas.addEventListener("pointerdown", function (event) {
      drawing = true;
      last = at(event);
      canvas.setPointerCapture(event.pointerId);
      event.preventDefault();
    });
    canvas.addEventListener("pointermove", function (event) {
      if (!drawing) return;
      var point = at(event);
      context.strokeStyle = "#000";
      context.beginPath();
      context.moveTo(last[0], last[1]);
      context.lineTo(point[0], point[1]);
      context.stroke();
      last = point;
    });
    ["pointerup", "pointercancel"].forEach(function (name) {
      canvas.addEventListener(name, function () { drawing = false; });
    });
    var controls = canvas.parentNode;
    controls.querySelector(".pf-demo-clear").addEventListener("click", function () {
      context.clearRect(0, 0, canvas.width, canvas.height);
    });
    controls.querySelector(".pf-demo-classify").addEventListener("click", function () {
      var pixels = context.getImageData(0, 0, canvas.width, canvas.height).data;
      var cellW = canvas.width / columns, cellH = canvas.height / rows;
      var values = [];
      for (var r = 0; r < rows; r++) {
        for (var c = 0; c < columns; c++) {
          var sum = 0, count = 0;
          for (var py = Math.floor(r * cellH); py < Math.floor((r + 1) * cellH); py++) {
            for (var px = Math.floor(c * cellW); px < Math.floor((c + 1) * cellW); px++) {
              sum += pixels[(py * canvas.width + px) * 4 + 3] / 255;
              count++;
            }
          }
          values.push(low + (count ? sum / count : 0) * (high - low));
        }
      }
      classify(values);
    });
  }

  function start() {
    document.querySelectorAll(".pf-demo:not([data-ready])").forEach(setup);
  }
  // Once per document: with Material's instant navigation the next page's loader calls
  // pfDemoStart instead of loading this script (and the runtime) again.
  window.pfDemoStart = start;
  start();
})();
