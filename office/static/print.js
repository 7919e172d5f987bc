// The print button: inline scripts are refused by the console's CSP.
document.getElementById("print").addEventListener("click", function () { window.print(); });
