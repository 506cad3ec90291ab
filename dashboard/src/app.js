// The workbench's small helpers; every page works without them.
// - A header check box selects every case of the table that can be picked.
// - Shift-click picks every case between the last one clicked and this one.
// - The bulk bar says how many cases are picked.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  for (const form of document.querySelectorAll("form.assign")) {
    const boxes = () => [...form.querySelectorAll("input[name=ids]")];
    const count = form.querySelector(".picked");
    const update = () => { if (count) count.textContent = `已选 ${boxes().filter((b) => b.checked).length} 条`; };
    const all = form.querySelector("input.select-all");
    if (all) all.addEventListener("change", () => { for (const b of boxes()) b.checked = all.checked; update(); });
    let last = null;
    for (const box of boxes()) {
      box.addEventListener("click", (event) => {
        const list = boxes();
        if (event.shiftKey && last !== null) {
          const [from, to] = [list.indexOf(last), list.indexOf(box)].sort((a, b) => a - b);
          for (const b of list.slice(from, to + 1)) b.checked = box.checked;
        }
        last = box;
        update();
      });
    }
    update();
  }
});
