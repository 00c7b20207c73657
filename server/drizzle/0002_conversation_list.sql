DROP INDEX "conversations_user_updated";--> statement-breakpoint
CREATE INDEX "conversations_user_updated_id" ON "conversations" USING btree ("user_id","updated_at","id");