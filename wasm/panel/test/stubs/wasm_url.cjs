module.exports = { default: '', __esModule: true };
