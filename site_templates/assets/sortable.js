/* Sortable tables for portfolio's results page: click a column header (or press Enter
   on it) to sort by it; again to reverse. No library, nothing loaded from a CDN. */
(function () {
  function cellValue(row, index, numeric) {
    var cell = row.cells[index];
    var raw = cell.getAttribute("data-value");
    if (numeric) {
      var number = parseFloat(raw === null ? cell.textContent : raw);
      return isNaN(number) ? -Infinity : number;
    }
    return cell.textContent.trim().toLowerCase();
  }

  function sortBy(table, header, index) {
    var numeric = header.getAttribute("data-type") === "number";
    var ascending = header.getAttribute("aria-sort") !== "ascending";
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = cellValue(a, index, numeric), y = cellValue(b, index, numeric);
      return (x < y ? -1 : x > y ? 1 : 0) * (ascending ? 1 : -1);
    });
    rows.forEach(function (row) { body.appendChild(row); });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th) {
      th.removeAttribute("aria-sort");
    });
    header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
  }

  function setUp() {
    document.querySelectorAll("table.pf-sortable").forEach(function (table) {
      Array.prototype.forEach.call(table.tHead.rows[0].cells, function (header, index) {
        if (header.dataset.sortable === "yes") return;
        header.dataset.sortable = "yes";
        header.tabIndex = 0;
        header.title = "Sort by " + header.textContent;
        header.addEventListener("click", function () { sortBy(table, header, index); });
        header.addEventListener("keydown", function (event) {
          if (event.key === "Enter" || event.key === " ") {
            event.preventDefault();
            sortBy(table, header, index);
          }
        });
      });
    });
  }

  // Material's instant navigation swaps pages without a reload: hook its observable too.
  if (window.document$ && window.document$.subscribe) {
    window.document$.subscribe(setUp);
  } else {
    document.addEventListener("DOMContentLoaded", setUp);
  }
})();
