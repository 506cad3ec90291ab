//! A built-in function with one of our checks around each call: the
//! size check of [`crate::bounded`] and the cancellation chunks of
//! [`crate::cancel`] wrap DataFusion's own functions the same way, keeping
//! their name, types and documentation.

use datafusion::arrow::datatypes::{DataType, FieldRef};
use datafusion::common::config::ConfigOptions;
use datafusion::error::Result;
use datafusion::logical_expr::{ColumnarValue, Documentation, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility};
use datafusion::prelude::{Expr, SessionContext};
use std::fmt::Debug;
use std::hash::Hash;
use std::sync::Arc;

/// What is done around each call of the wrapped function.
pub(crate) trait Around: Debug + Clone + PartialEq + Eq + Hash + Send + Sync + 'static {
    /// Calls `inner` with `args`, checked.
    fn call(&self, inner: &ScalarUDF, args: ScalarFunctionArgs) -> Result<ColumnarValue>;
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct Wrapped<A> {
    inner: Arc<ScalarUDF>,
    around: A,
    signature: Signature,
}

/// Replaces the function `name` of `ctx` (if it has one) with it wrapped in
/// `around`; `volatility` overrides the function's own when given.
pub(crate) fn replace<A: Around>(ctx: &SessionContext, name: &str, around: A, volatility: Option<Volatility>) {
    use datafusion::execution::FunctionRegistry;
    if let Ok(inner) = ctx.udf(name) {
        ctx.register_udf(wrap(inner, around, volatility));
    }
}

fn wrap<A: Around>(inner: Arc<ScalarUDF>, around: A, volatility: Option<Volatility>) -> ScalarUDF {
    let signature = Signature { volatility: volatility.unwrap_or(inner.signature().volatility), ..inner.signature().clone() };
    ScalarUDF::new_from_impl(Wrapped { inner, around, signature })
}

impl<A: Around> ScalarUDFImpl for Wrapped<A> {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn aliases(&self) -> &[String] {
        self.inner.aliases()
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        self.inner.return_type(arg_types)
    }
    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        self.inner.return_field_from_args(args)
    }
    fn with_updated_config(&self, config: &ConfigOptions) -> Option<ScalarUDF> {
        let inner = self.inner.inner().with_updated_config(config)?;
        Some(wrap(Arc::new(inner), self.around.clone(), Some(self.signature.volatility)))
    }
    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        self.inner.coerce_types(arg_types)
    }
    fn schema_name(&self, args: &[Expr]) -> Result<String> {
        self.inner.inner().schema_name(args)
    }
    fn documentation(&self) -> Option<&Documentation> {
        self.inner.documentation()
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        self.around.call(&self.inner, args)
    }
}
