package routes

// Functions is every Lambda function of Gatehouse, in the template's order. Adding a
// route is a row here (README, "Adding a route").
var Functions = []Function{
	{
		Dir: "users-login", Description: "POST /users/login and POST /login",
		Doc:    "is the Lambda function of POST /users/login and POST /login (MMDL's path).",
		Family: Users, Handler: "Login",
		Events: append(post("/users/login"), Event{Name: "MmdlLogin", Method: "POST", Path: "/login",
			Comment: "MMDL's front end posts its login to /login (its server's path)."}),
		DynamoDB: []Grant{checking},
	},
	{
		Dir: "users-register", Description: "POST /users/register",
		Family: Users, Handler: "Register", Boot: MailBoot, Events: post("/users/register"),
		DynamoDB: []Grant{registering},
	},
	{
		Dir: "users-request-otp", Description: "POST and GET /users/requestotp",
		Family: Users, Handler: "RequestOTP", Boot: MailBoot, Memory: 256,
		Events: append(post("/users/requestotp"), Event{Name: "MmdlRequestOtp", Method: "GET", Path: "/users/requestotp",
			Comment: "MMDL's reset page asks with GET /users/requestotp?username=."}),
		DynamoDB: []Grant{table(acts("GetItem", "PutItem", "UpdateItem"), PKUsername, PKUser, PKMailTo, PKBudget)},
	},
	{
		Dir: "users-modify-password", Description: "POST /users/modifypassword",
		Family: Users, Handler: "ModifyPassword", Events: post("/users/modifypassword"),
		// the OTP and the account; a new password voids the reset token; failed codes count per source.
		DynamoDB: []Grant{table(acts("UpdateItem", "GetItem", "DeleteItem", "PutItem"), PKUser, PKIP, PKReset)},
	},
	{
		Dir: "users-info", Description: "GET /users/info",
		Family: Users, Handler: "Info", Memory: 256, Events: get("/users/info"),
		DynamoDB: []Grant{seeingSession},
	},
	{
		Dir: "users-logout", Description: "POST /users/logout",
		Family: Users, Handler: "Logout", Memory: 256, Events: post("/users/logout"),
		DynamoDB: []Grant{table(acts("BatchGetItem", "DeleteItem", "PutItem"), PKUser)},
	},
	{
		Dir: "user-create", Description: "POST /user/create",
		Family: User, Handler: "Create", Boot: MailBoot, Events: post("/user/create"),
		DynamoDB: []Grant{registering},
	},
	{
		Dir: "user-auth", Description: "POST /user/auth",
		Family: User, Handler: "Auth", Events: post("/user/auth"),
		DynamoDB: []Grant{checking},
	},
	{
		Dir: "user-logged", Description: "GET /user/logged",
		Family: User, Handler: "Logged", Memory: 256, Events: get("/user/logged"),
		DynamoDB: []Grant{seeingSession},
	},
	{
		Dir: "user-profile", Description: "GET /user/profile/{username}",
		Family: User, Handler: "Profile", Memory: 256, Events: get("/user/profile/{username}"),
		DynamoDB: []Grant{table(acts("GetItem"), PKUsername, PKUser)},
	},
	{
		Dir: "user-password-reset-token", Description: "POST /user/password-reset-token",
		Family: User, Handler: "PasswordResetToken", Boot: MailBoot, Memory: 256, Events: post("/user/password-reset-token"),
		DynamoDB: []Grant{table(acts("GetItem", "PutItem", "UpdateItem", "DeleteItem"), PKEmail, PKReset, PKUser, PKMailTo, PKBudget)},
	},
	{
		Dir: "user-password-reset", Description: "POST /user/password-reset",
		Family: User, Handler: "PasswordReset", Events: post("/user/password-reset"),
		DynamoDB: []Grant{table(acts("GetItem", "UpdateItem", "DeleteItem", "PutItem"), PKReset, PKUser, PKIP)},
	},
	{
		Dir: "user-logout", Description: "POST /user/logout",
		Family: User, Handler: "Logout", Memory: 256, Events: post("/user/logout"),
		DynamoDB: []Grant{table(acts("BatchGetItem", "DeleteItem", "PutItem"), PKUser)},
	},
	{
		Dir: "user-sessions", Description: "GET /user/sessions",
		Family: User, Handler: "Sessions", Memory: 256, Events: get("/user/sessions"),
		// the session check (with its last-seen write), then the account's sessions.
		DynamoDB: []Grant{table(acts("BatchGetItem", "UpdateItem", "Query"), PKUser)},
	},
	{
		Dir: "user-end-session", Description: "DELETE /user/sessions/{id}",
		Family: User, Handler: "EndSession", Memory: 256,
		Events: []Event{{Name: "Api", Method: "DELETE", Path: "/user/sessions/{id}"}},
		// the session check, the account's sessions, the delete with its session.ended event.
		DynamoDB: []Grant{table(acts("BatchGetItem", "Query", "DeleteItem", "PutItem"), PKUser)},
	},
	{
		Dir: "user-logout-all", Description: "POST /user/logout-all",
		Family: User, Handler: "LogoutAll", Memory: 256, Events: post("/user/logout-all"),
		// the session check, then the account's credential version with its session.ended event.
		DynamoDB: []Grant{table(acts("BatchGetItem", "UpdateItem", "PutItem"), PKUser)},
	},
	{
		Dir: "user-update-profile", Description: "PUT /user/profile",
		Family: User, Handler: "UpdateProfile", Memory: 256, Events: []Event{{Name: "Api", Method: "PUT", Path: "/user/profile"}},
		// the session check, then one conditional update of the account with its profile.updated
		// event (and a read of the account when another field moved meanwhile).
		DynamoDB: []Grant{table(acts("BatchGetItem", "GetItem", "UpdateItem", "PutItem"), PKUser)},
	},
	{
		Dir: "user-delete", Description: "DELETE /user",
		Family: User, Handler: "DeleteAccount", Events: []Event{{Name: "Api", Method: "DELETE", Path: "/user"}},
		// the session check, the counted password check (an unknown name's count should the
		// account go meanwhile), then the admin delete's writes: the account with its unique
		// keys, OTP, reset token, token index and sessions, and the admin count.
		DynamoDB: []Grant{
			table(acts("BatchGetItem", "GetItem", "UpdateItem", "PutItem", "DeleteItem", "Query", "BatchWriteItem"),
				PKUser, PKUsername, PKEmail, PKReset, PKToken, PKFail, PKAdmins),
			{GSI1: true, Actions: acts("Query"), Keys: []string{GSIAccount}, Comment: "The admin count is computed once, on an installation from before it."},
		},
	},
	{
		Dir: "user-change-email", Description: "PUT /user/email",
		Family: User, Handler: "ChangeEmail", Boot: MailBoot, Memory: 256, Events: []Event{{Name: "Api", Method: "PUT", Path: "/user/email"}},
		// the session, the new address's key, the password check, the mail quota, the verification.
		DynamoDB: []Grant{table(acts("BatchGetItem", "GetItem", "PutItem", "UpdateItem"), PKUser, PKEmail, PKIP, PKFail, PKMailTo, PKBudget)},
	},
	{
		Dir: "user-verify-email", Description: "POST /user/verify-email",
		Family: User, Handler: "VerifyEmail", Memory: 256, Events: post("/user/verify-email"),
		// the verification with its account; the address's key reserved and the old one released.
		DynamoDB: []Grant{table(acts("BatchGetItem", "GetItem", "PutItem", "UpdateItem", "DeleteItem"), PKUser, PKEmail)},
	},
	{
		Dir: "account-register", Description: "POST /api/user/v1/register",
		Family: AccountV1, Handler: "Register", Boot: MailBoot, Events: post("/api/user/v1/register"),
		DynamoDB: []Grant{registering},
	},
	{
		Dir: "account-change-password", Description: "PATCH /api/user/v1/changepassword",
		Family: AccountV1, Handler: "ChangePassword", Events: []Event{{Name: "Api", Method: "PATCH", Path: "/api/user/v1/changepassword"}},
		DynamoDB: []Grant{table(acts("GetItem", "UpdateItem", "DeleteItem", "BatchGetItem", "PutItem"), PKEmail, PKUser, PKIP, PKFail, PKReset)},
	},
	{
		Dir: "account-reset-password", Description: "PATCH /api/user/v1/resetpassword",
		Family: AccountV1, Handler: "ResetPassword", Events: []Event{{Name: "Api", Method: "PATCH", Path: "/api/user/v1/resetpassword"}},
		// user_secret by email, or an admin's Basic credentials by username.
		DynamoDB: []Grant{table(acts("GetItem", "UpdateItem", "DeleteItem", "BatchGetItem", "PutItem"), PKEmail, PKUsername, PKUser, PKIP, PKFail, PKReset)},
	},
	{
		Dir: "admin-list-users", Description: "GET /api/v2/users",
		Family: Admin, Handler: "ListUsers", Boot: AdminBoot, Events: get("/api/v2/users"),
		DynamoDB: []Grant{adminAuth, accountsIndex},
	},
	{
		Dir: "admin-get-user", Description: "GET /api/v2/users/{username}",
		Family: Admin, Handler: "GetUser", Boot: AdminBoot, Events: get("/api/v2/users/{username}"),
		DynamoDB: []Grant{adminAuth},
	},
	{
		Dir: "admin-create-user", Description: "POST /api/v2/users/{username}",
		Family: Admin, Handler: "CreateUser", Boot: AdminBoot, Events: post("/api/v2/users/{username}"),
		DynamoDB: []Grant{table(acts("GetItem", "BatchGetItem", "UpdateItem", "PutItem"), PKCounter, PKUsername, PKEmail, PKUser, PKToken, PKIP, PKFail)},
	},
	{
		Dir: "admin-update-user", Description: "PUT and PATCH /api/v2/users/{username}/update",
		Family: Admin, Handler: "UpdateUser", Boot: AdminBoot,
		Events: []Event{{Name: "Api", Method: "PUT", Path: "/api/v2/users/{username}/update"},
			{Name: "ApiPatch", Method: "PATCH", Path: "/api/v2/users/{username}/update", Comment: "The manager takes PATCH with the same meaning."}},
		DynamoDB: []Grant{table(acts("GetItem", "UpdateItem", "PutItem", "DeleteItem", "BatchGetItem"), PKUsername, PKUser, PKToken, PKIP, PKFail, PKReset)},
	},
	{
		Dir: "admin-refresh-token", Description: "POST /api/v2/users/{username}/refresh",
		Family: Admin, Handler: "RefreshToken", Boot: AdminBoot, Events: post("/api/v2/users/{username}/refresh"),
		DynamoDB: []Grant{table(acts("GetItem", "UpdateItem", "PutItem", "DeleteItem", "BatchGetItem"), PKUsername, PKUser, PKToken, PKIP, PKFail)},
	},
	{
		Dir: "admin-delete-user", Description: "DELETE /api/v2/users/{username}",
		Family: Admin, Handler: "DeleteUser", Boot: AdminBoot, Events: []Event{{Name: "Api", Method: "DELETE", Path: "/api/v2/users/{username}"}},
		// the account with its unique keys, OTP, reset token, token index and sessions, and the
		// admin count (computed from GSI1 once on an installation from before it).
		DynamoDB: []Grant{
			table(acts("GetItem", "UpdateItem", "DeleteItem", "Query", "BatchWriteItem", "PutItem", "BatchGetItem"),
				PKUsername, PKEmail, PKReset, PKUser, PKToken, PKIP, PKFail, PKAdmins),
			{GSI1: true, Actions: acts("Query"), Keys: []string{GSIAccount}, Comment: "The admin count is computed once, on an installation from before it."},
		},
	},
	{
		Dir: "admin-user-events", Description: "GET /api/v2/users/{username}/events",
		Family: Admin, Handler: "UserEvents", Boot: AdminBoot, Events: get("/api/v2/users/{username}/events"),
		// the audit events, in the account's partition.
		DynamoDB: []Grant{table(acts("GetItem", "BatchGetItem", "UpdateItem", "PutItem", "Query"), PKUsername, PKUser, PKToken, PKIP, PKFail)},
	},
	{
		Dir: "admin-status", Description: "GET /api/v2/status",
		Family: Admin, Handler: "Status", Boot: AdminBoot, Events: get("/api/v2/status"),
		DynamoDB: []Grant{adminAuth},
	},
	{
		Dir:         "session-authorizer",
		Description: "HTTP API Lambda authorizer (payload 2.0, simple responses) for Gatehouse sessions",
		Doc:         "is the HTTP API Lambda authorizer other stacks attach\n(SessionAuthorizerFunction); it has no route of its own.",
		Comment: "The session authorizer other stacks attach to their HTTP APIs (README, \"Session\n" +
			"authorizer\"). No Events: it guards consumers' routes, not a route of GatehouseApi.",
		Family: Authorizer, Memory: 256,
		// the session and its account, for consumers' routes.
		DynamoDB: []Grant{bySession},
	},
}
