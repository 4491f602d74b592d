// Polls a job's status URL and moves the progress bar; reloads the page when the job has finished.
(function () {
  const box = document.querySelector("[data-job-status-url]");
  if (!box) return;
  const bar = box.querySelector(".progress-bar");
  const poll = () => {
    fetch(box.dataset.jobStatusUrl, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then((response) => response.json())
      .then((job) => {
        bar.style.width = job.progress + "%";
        bar.textContent = job.progress + " %";
        bar.setAttribute("aria-valuenow", job.progress);
        if (job.running) {
          setTimeout(poll, 1000);
        } else {
          window.location.reload();
        }
      })
      .catch(() => setTimeout(poll, 3000));
  };
  setTimeout(poll, 700);
})();
