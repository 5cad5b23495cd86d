"""The USD-M futures half of the sandbox: account model, funding, and the /fapi API."""
