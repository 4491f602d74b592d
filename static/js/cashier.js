// The cashier's page: read the card's QR code (the virtual card) or Code128 barcode (the plastic card) with the
// phone's camera through the vendored ZXing decoder, put what was read into the card field and send the check.
// Without a camera (or without permission) the cashier types the number: nothing here is needed for that.
(function () {
  "use strict";

  const form = document.getElementById("card-check-form");
  const input = document.getElementById("card-input");
  const startButton = document.getElementById("scan-start");
  const stopButton = document.getElementById("scan-stop");
  const scanner = document.getElementById("scanner");
  const video = document.getElementById("scanner-video");
  const status = document.getElementById("scanner-status");

  // Returns: a purchase is taken back only after the cashier confirms it.
  document.querySelectorAll("form[data-confirm]").forEach((confirmForm) => {
    confirmForm.addEventListener("submit", (event) => {
      if (!window.confirm(confirmForm.dataset.confirm)) event.preventDefault();
    });
  });

  // A 16-digit number is shown as printed on the card, in groups of four.
  function cardText(text) {
    const trimmed = text.trim();
    const digits = trimmed.replace(/[\s-]/g, "");
    if (/^\d{16}$/.test(digits)) return digits.replace(/(\d{4})(?=\d)/g, "$1 ");
    return trimmed; // the QR's verification address: the server reads the signed token in it
  }

  if (!form || !startButton) return;
  const cameraPossible = window.ZXing && navigator.mediaDevices && navigator.mediaDevices.getUserMedia;
  if (!cameraPossible) return; // no camera API here (or an insecure origin): typing still works
  startButton.hidden = false;

  let reader = null;

  function stop() {
    if (reader) reader.reset();
    reader = null;
    scanner.hidden = true;
    startButton.hidden = false;
  }

  function start() {
    const hints = new Map();
    hints.set(ZXing.DecodeHintType.POSSIBLE_FORMATS, [ZXing.BarcodeFormat.QR_CODE, ZXing.BarcodeFormat.CODE_128]);
    hints.set(ZXing.DecodeHintType.TRY_HARDER, true);
    reader = new ZXing.BrowserMultiFormatReader(hints, 300);
    scanner.hidden = false;
    startButton.hidden = true;
    status.textContent = status.dataset.starting;
    const constraints = { video: { facingMode: { ideal: "environment" } }, audio: false };
    reader
      .decodeFromConstraints(constraints, video, (result) => {
        if (!result || !reader) return;
        input.value = cardText(result.getText());
        stop();
        form.requestSubmit();
      })
      .catch(() => {
        if (reader) reader.reset();
        reader = null;
        status.textContent = status.dataset.denied;
        startButton.hidden = false;
      });
  }

  startButton.addEventListener("click", start);
  stopButton.addEventListener("click", stop);
  window.addEventListener("pagehide", stop);
})();
