// Interactive part of the synthcase showcase. Reads the embedded release data,
// draws one bar chart per attribute and recounts every chart in one pass over
// the synthetic records whenever the selection changes. No network, no
// libraries; every label reaches the page through textContent or dataset.
(() => {
  "use strict";

  const VISIBLE_ROWS = 12;

  const payload = JSON.parse(
    document.getElementById("showcase-data").textContent,
  );
  const columns = payload.columns;
  const labels = payload.labels;
  const nColumns = columns.length;
  const nRecords = payload.records;
  const reportingLength = payload.reporting_length;

  // Row-major codes keep the cells of one record together, so the counting
  // pass reads memory in order; -1 marks an absent cell.
  const codes = new Int32Array(nRecords * nColumns);
  payload.codes.forEach((column, j) => {
    for (let i = 0; i < nRecords; i += 1) {
      codes[i * nColumns + j] = column[i];
    }
  });

  const columnIndex = new Map(columns.map((name, j) => [name, j]));
  const valueIndex = labels.map(
    (values) => new Map(values.map((label, k) => [label, k])),
  );

  // ---- aggregates.tsv -------------------------------------------------

  // A backslash escapes "\\", ";" and ":"; "\t" and "\n" stand for a tab
  // and a newline, which would otherwise break the line.
  const UNESCAPE = { t: "\t", n: "\n" };

  function splitSelection(text) {
    if (!text.includes("\\")) {
      return text.split(";").map((part) => {
        const colon = part.indexOf(":");
        return [part.slice(0, colon), part.slice(colon + 1)];
      });
    }
    const pairs = [];
    let column = null;
    let part = "";
    for (let i = 0; i < text.length; i += 1) {
      const ch = text[i];
      if (ch === "\\") {
        i += 1;
        part += UNESCAPE[text[i]] ?? text[i];
      } else if (ch === ":" && column === null) {
        column = part;
        part = "";
      } else if (ch === ";") {
        pairs.push([column, part]);
        column = null;
        part = "";
      } else {
        part += ch;
      }
    }
    pairs.push([column, part]);
    return pairs;
  }

  function keyOf(pairs) {
    return pairs
      .slice()
      .sort((a, b) => a[0] - b[0])
      .map((pair) => `${pair[0]}:${pair[1]}`)
      .join(",");
  }

  function parseAggregates(text) {
    const protectedCounts = new Map();
    let recordCount = null;
    const lines = text.split("\n");
    for (let n = 1; n < lines.length; n += 1) {
      let line = lines[n];
      if (line.endsWith("\r")) {
        line = line.slice(0, -1);
      }
      if (line === "") {
        continue;
      }
      const tab = line.lastIndexOf("\t");
      const selection = line.slice(0, tab);
      const count = Number(line.slice(tab + 1));
      if (selection === "record_count") {
        recordCount = count;
        continue;
      }
      const ids = [];
      for (const [column, label] of splitSelection(selection)) {
        const j = columnIndex.get(column);
        const k = j === undefined ? undefined : valueIndex[j].get(label);
        if (k === undefined) {
          ids.length = 0;
          break;
        }
        ids.push([j, k]);
      }
      if (ids.length > 0) {
        protectedCounts.set(keyOf(ids), count);
      }
    }
    return { protectedCounts, recordCount };
  }

  const aggregates = parseAggregates(payload.aggregates);

  // ---- state and counting ---------------------------------------------

  const selection = new Int32Array(nColumns).fill(-1);
  const counts = labels.map((values) => new Int32Array(values.length));
  let matching = 0;

  function selectedPairs() {
    const pairs = [];
    for (let j = 0; j < nColumns; j += 1) {
      if (selection[j] >= 0) {
        pairs.push([j, selection[j]]);
      }
    }
    return pairs;
  }

  function recount() {
    const pairs = selectedPairs();
    const nSelected = pairs.length;
    const selColumns = new Int32Array(pairs.map((pair) => pair[0]));
    const selValues = new Int32Array(pairs.map((pair) => pair[1]));
    for (const column of counts) {
      column.fill(0);
    }
    matching = 0;
    for (let i = 0, base = 0; i < nRecords; i += 1, base += nColumns) {
      let s = 0;
      while (s < nSelected && codes[base + selColumns[s]] === selValues[s]) {
        s += 1;
      }
      if (s < nSelected) {
        continue;
      }
      matching += 1;
      for (let j = 0; j < nColumns; j += 1) {
        const code = codes[base + j];
        if (code >= 0) {
          counts[j][code] += 1;
        }
      }
    }
  }

  // The protected count shown on bar (j, k) belongs to the combination of the
  // selection with column j set to k, when that combination exists, fits the
  // reporting length and was published; otherwise nothing is shown.
  function barProtectedCount(pairs, j, k) {
    if (selection[j] >= 0 && selection[j] !== k) {
      return null;
    }
    const combination = pairs.filter((pair) => pair[0] !== j);
    combination.push([j, k]);
    if (combination.length > reportingLength) {
      return null;
    }
    const count = aggregates.protectedCounts.get(keyOf(combination));
    return count === undefined ? null : count;
  }

  function selectionProtectedCount(pairs) {
    if (pairs.length === 0) {
      return { count: aggregates.recordCount, note: "" };
    }
    if (pairs.length > reportingLength) {
      return {
        count: null,
        note:
          `Not published: the selection has ${pairs.length} values and the ` +
          `reporting length is ${reportingLength}.`,
      };
    }
    const count = aggregates.protectedCounts.get(keyOf(pairs));
    if (count === undefined) {
      return {
        count: null,
        note: "Not published: this combination is not in the aggregates.",
      };
    }
    return { count, note: "" };
  }

  // ---- drawing ----------------------------------------------------------

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text !== undefined) {
      node.textContent = text;
    }
    return node;
  }

  const grid = document.querySelector('[data-role="charts"]');
  const charts = [];

  function buildCharts() {
    columns.forEach((name, j) => {
      const card = element("section", "card");
      const headingId = `column-${j}`;
      card.setAttribute("aria-labelledby", headingId);
      const head = element("div", "card-head");
      const heading = element("h3", "card-title", name);
      heading.id = headingId;
      head.append(heading, element("span", "card-meta", ""));
      const columnHeads = element("div", "bar-heading");
      columnHeads.setAttribute("aria-hidden", "true");
      const numberHeads = element("span");
      numberHeads.append(
        element("span", "", "synthetic"),
        element("span", "", "protected"),
      );
      columnHeads.append(element("span"), element("span"), numberHeads);
      const list = element("div", "bars");
      const rows = labels[j].map((label, k) => {
        const row = element("button", "bar");
        row.type = "button";
        row.dataset.column = name;
        row.dataset.value = label;
        row.dataset.j = String(j);
        row.dataset.k = String(k);
        row.setAttribute("aria-pressed", "false");
        const text = element("span", "bar-label", label);
        text.title = label;
        const track = element("span", "bar-track");
        track.setAttribute("aria-hidden", "true");
        const protectedBar = element("span", "bar-protected");
        const syntheticBar = element("span", "bar-synthetic");
        track.append(protectedBar, syntheticBar);
        const numbers = element("span", "bar-numbers");
        const synthetic = element("span", "count-synthetic");
        synthetic.dataset.role = "synthetic-count";
        const protectedCount = element("span", "count-protected");
        protectedCount.dataset.role = "protected-count";
        numbers.append(synthetic, protectedCount);
        row.append(text, track, numbers);
        list.append(row);
        return {
          row,
          syntheticBar,
          protectedBar,
          synthetic,
          protectedCount,
          name: `${name}: ${label}`,
        };
      });
      card.append(head, columnHeads, list);
      let toggle = null;
      if (rows.length > VISIBLE_ROWS) {
        toggle = element("button", "more");
        toggle.type = "button";
        toggle.dataset.role = "show-all";
        toggle.dataset.column = name;
        toggle.setAttribute("aria-expanded", "false");
        toggle.addEventListener("click", () => {
          const chart = charts[j];
          chart.expanded = !chart.expanded;
          drawChart(j, selectedPairs());
        });
        card.append(toggle);
      }
      grid.append(card);
      charts.push({ rows, toggle, meta: head.lastChild, expanded: false });
    });
  }

  // Writes only what changed since the last drawing: on large releases the
  // browser's restyle and relayout, not the counting, dominate a click.
  function paint(bar, next) {
    const last = bar.shown ?? {};
    if (next.synthetic !== last.synthetic) {
      bar.synthetic.textContent = next.synthetic;
    }
    if (next.protected !== last.protected) {
      bar.protectedCount.textContent = next.protected;
    }
    if (next.syntheticScale !== last.syntheticScale) {
      bar.syntheticBar.style.transform = `scaleX(${next.syntheticScale})`;
    }
    if (next.protectedScale !== last.protectedScale) {
      bar.protectedBar.style.transform = `scaleX(${next.protectedScale})`;
    }
    if (next.selected !== last.selected) {
      bar.row.setAttribute("aria-pressed", String(next.selected));
    }
    if (next.synthetic !== last.synthetic || next.protected !== last.protected) {
      const published = next.protected ? `, protected count ${next.protected}` : "";
      bar.row.setAttribute(
        "aria-label",
        `${bar.name}, ${next.synthetic} synthetic records${published}`,
      );
    }
    if (next.zero !== last.zero) {
      bar.row.classList.toggle("is-zero", next.zero);
    }
    if (next.hidden !== last.hidden) {
      bar.row.hidden = next.hidden;
    }
    bar.shown = next;
  }

  function drawChart(j, pairs) {
    const chart = charts[j];
    const column = counts[j];
    const protectedCounts = labels[j].map((_, k) =>
      barProtectedCount(pairs, j, k),
    );
    let scale = 1;
    for (let k = 0; k < column.length; k += 1) {
      scale = Math.max(scale, column[k], protectedCounts[k] ?? 0);
    }
    let absent = matching;
    chart.rows.forEach((bar, k) => {
      const count = column[k];
      const published = protectedCounts[k];
      absent -= count;
      const selected = selection[j] === k;
      paint(bar, {
        synthetic: String(count),
        protected: published === null ? "" : String(published),
        syntheticScale: count / scale,
        protectedScale: (published ?? 0) / scale,
        selected,
        zero: count === 0 && published === null,
        hidden: !chart.expanded && k >= VISIBLE_ROWS && !selected,
      });
    });
    const meta = absent > 0 ? `${absent} without a value` : "";
    if (chart.meta.textContent !== meta) {
      chart.meta.textContent = meta;
    }
    if (chart.toggle) {
      chart.toggle.textContent = chart.expanded
        ? `Show the first ${VISIBLE_ROWS} values`
        : `Show all ${column.length} values`;
      chart.toggle.setAttribute("aria-expanded", String(chart.expanded));
    }
  }

  const chips = document.querySelector('[data-role="chips"]');
  const clearButton = document.querySelector('[data-role="clear"]');
  const totalSynthetic = document.querySelector(
    '[data-role="selection-synthetic"]',
  );
  const totalProtected = document.querySelector(
    '[data-role="selection-protected"]',
  );
  const totalNote = document.querySelector(
    '[data-role="selection-protected-note"]',
  );

  function drawSelection(pairs) {
    chips.replaceChildren();
    if (pairs.length === 0) {
      chips.append(
        element("span", "hint", "Nothing selected: all synthetic records."),
      );
    }
    for (const [j, k] of pairs) {
      const chip = element("button", "chip");
      chip.type = "button";
      chip.dataset.role = "chip";
      chip.dataset.j = String(j);
      chip.setAttribute(
        "aria-label",
        `Remove ${columns[j]} = ${labels[j][k]} from the selection`,
      );
      chip.append(
        element("span", "chip-column", columns[j]),
        element("span", "chip-value", labels[j][k]),
        element("span", "chip-remove", "\u00d7"),
      );
      chips.append(chip);
    }
    clearButton.disabled = pairs.length === 0;
    totalSynthetic.textContent = String(matching);
    const published = selectionProtectedCount(pairs);
    totalProtected.textContent =
      published.count === null ? "" : String(published.count);
    totalNote.textContent = published.note;
  }

  function update() {
    recount();
    const pairs = selectedPairs();
    for (let j = 0; j < nColumns; j += 1) {
      drawChart(j, pairs);
    }
    drawSelection(pairs);
  }

  // ---- interaction ------------------------------------------------------

  grid.addEventListener("click", (event) => {
    const row = event.target.closest("button.bar");
    if (!row) {
      return;
    }
    const j = Number(row.dataset.j);
    const k = Number(row.dataset.k);
    selection[j] = selection[j] === k ? -1 : k;
    update();
  });

  chips.addEventListener("click", (event) => {
    const chip = event.target.closest("button.chip");
    if (!chip) {
      return;
    }
    selection[Number(chip.dataset.j)] = -1;
    update();
    (chips.querySelector("button.chip") ?? clearButton).focus();
  });

  clearButton.addEventListener("click", () => {
    selection.fill(-1);
    update();
  });

  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && selectedPairs().length > 0) {
      selection.fill(-1);
      update();
    }
  });

  // ---- downloads ----------------------------------------------------------

  function csvField(text) {
    return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  }

  function syntheticCsv() {
    const escaped = labels.map((values) => values.map(csvField));
    // A lone empty field would read back as a blank line, so a one-column
    // file writes an absent cell as "" (as pandas does).
    const empty = nColumns === 1 ? '""' : "";
    const lines = [columns.map(csvField).join(",")];
    const cells = new Array(nColumns);
    for (let i = 0, base = 0; i < nRecords; i += 1, base += nColumns) {
      for (let j = 0; j < nColumns; j += 1) {
        const code = codes[base + j];
        cells[j] = code < 0 ? empty : escaped[j][code];
      }
      lines.push(cells.join(","));
    }
    return `${lines.join("\n")}\n`;
  }

  function save(name, text, type) {
    const url = URL.createObjectURL(new Blob([text], { type }));
    const link = document.createElement("a");
    link.href = url;
    link.download = name;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  }

  document
    .querySelector('[data-role="download-synthetic"]')
    .addEventListener("click", () =>
      save("synthetic.csv", syntheticCsv(), "text/csv"),
    );
  document
    .querySelector('[data-role="download-aggregates"]')
    .addEventListener("click", () =>
      save("aggregates.tsv", payload.aggregates, "text/tab-separated-values"),
    );

  buildCharts();
  update();
})();
